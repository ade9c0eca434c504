// moestudio-cli: headless entry of MoE Studio. Dispatches the first word to a command.
#include "commands.h"

#include "moe/version.h"

#include <cstring>
#include <iostream>
#include <string>

namespace {

constexpr const char* kHelp =
    "moestudio-cli — MoE Studio from the shell\n"
    "\n"
    "usage: moestudio-cli COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  info MODEL [--tensors] [--metadata] [--json]   describe a model file\n"
    "  info --devices                                 list compute devices\n"
    "  generate --model MODEL --prompt TEXT [sampling] [--chat] [--system TEXT] [--project DIR]\n"
    "                                                 stream one reply, then a speed line\n"
    "  chat --model MODEL [sampling] [--system TEXT] [--project DIR]\n"
    "                                                 interactive multi-turn chat\n"
    "  bench --model MODEL [--pp 128,512] [--tg 128] [--reps 5] [--json FILE] [--project DIR]\n"
    "                                                 prefill/decode tok/s, TTFT, peak memory\n"
    "  bench run SUITE.json (--model M [--model M2 ...] | --versions ID,... --project DIR) [--json]\n"
    "                                                 a speed + quality suite per model (docs/bench.md)\n"
    "  eval perplexity|kl|choice|generation|routing --model M ...  one quality eval (docs/bench.md)\n"
    "  template (--model M | --template F | --builtin NAME) --messages F.json [--no-generation-prompt]\n"
    "                                                 render a chat with a chat template\n"
    "  make-model --arch mixtral --preset tiny|small --seed N --out FILE.gguf [--type f32|f16|bf16]\n"
    "                                                 write a seeded random-weight model\n"
    "  quantize IN.gguf|HF_FOLDER OUT.gguf --type q4_k|q5_k|q6_k|q8_0|q4_0|q5_0|q4_k_m|f16|bf16|...\n"
    "                                                 rewrite a model with quantized weights\n"
    "  convert HF_FOLDER OUT.gguf [--type f32|f16|bf16|q8_0|q4_k_m|...]\n"
    "                                                 a Hugging Face folder as one GGUF file\n"
    "  demo-project DIR                               make DIR the demo project (idempotent)\n"
    "  tokenize --model PATH [--no-special] [--verbose] (TEXT | --input-json FILE) [--output-json FILE]\n"
    "                                                 token ids of text (PATH: GGUF, folder, tokenizer.json)\n"
    "  detokenize --model PATH [--skip-special] (IDS... | --input-json FILE) [--output-json FILE]\n"
    "                                                 text of token ids\n"
    "  finetune CONFIG.json --model MODEL [--output DIR] [--resume CKPT] [--project DIR]\n"
    "                                                 LoRA / ESFT / full fine-tuning (docs/finetune.md)\n"
    "  grads --model MODEL --adapter DIR --tokens T.npy --labels L.npy --out G.safetensors\n"
    "                                                 loss and LoRA gradients of one batch\n"
    "  merge --model BASE.gguf --result ADAPTER|WEIGHTS --out MERGED.gguf [--type T]\n"
    "                                                 fold a fine-tuning result into the base\n"
    "  logits --model MODEL --tokens 1,2,3 --out FILE.npy [--device cpu] [experts]\n"
    "                                                 float32 [nTok, nVocab] logits of every position\n"
    "  route --model MODEL (--tokens 1,2,3 | --prompt TEXT) [--per-token] [--json] [experts]\n"
    "                                                 expert counts, weights, load entropy per layer\n"
    "  project init DIR [--name NAME] | list DIR | check DIR | info DIR | runs DIR\n"
    "  project export DIR FILE | import FILE DIR      the whole project in one file\n"
    "  runs show ID --project DIR                     one run: config, metrics, checkpoints\n"
    "  report --project DIR --runs ID[,ID...] --out FILE.html|.pdf|.csv [--title T]\n"
    "                                                 bench runs as a report (docs/reports.md)\n"
    "\n"
    "sampling: --temperature T (0 = greedy) --top-k K --top-p P --min-p P --max-tokens N --seed S\n"
    "          --repeat-penalty R --presence-penalty P --frequency-penalty F --penalty-last-n N\n"
    "          --logit-bias ID=BIAS[,ID=BIAS...] --threads N --ctx N\n"
    "experts:  --max-experts N --threshold X --profile NAME|FILE.json|none (docs/expert-policy.md)\n"
    "\n"
    "  --version    print the version\n"
    "  --help       print this help\n";

} // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
        !std::strcmp(argv[1], "help")) {
        std::cout << kHelp;
        return argc < 2 ? 2 : 0;
    }
    const std::string cmd = argv[1];
    if (cmd == "--version") {
        std::cout << "moestudio-cli " << moe::buildDescription() << "\n";
        return 0;
    }
    int subArgc = argc - 1;
    char** subArgv = argv + 1;
    if (cmd == "info") return cmdInfo(subArgc, subArgv);
    if (cmd == "template") return cmdTemplate(subArgc, subArgv);
    if (cmd == "bench") return cmdBench(subArgc, subArgv);
    if (cmd == "eval") return cmdEval(subArgc, subArgv);
    if (cmd == "generate") return cmdGenerate(subArgc, subArgv);
    if (cmd == "chat") return cmdChat(subArgc, subArgv);
    if (cmd == "make-model") return cmdMakeModel(subArgc, subArgv);
    if (cmd == "quantize") return cmdQuantize(subArgc, subArgv);
    if (cmd == "convert") return cmdConvert(subArgc, subArgv);
    if (cmd == "demo-project") return cmdDemoProject(subArgc, subArgv);
    if (cmd == "project") return cmdProject(subArgc, subArgv);
    if (cmd == "runs") return cmdRuns(subArgc, subArgv);
    if (cmd == "tokenize") return cmdTokenize(subArgc, subArgv);
    if (cmd == "detokenize") return cmdDetokenize(subArgc, subArgv);
    if (cmd == "logits") return cmdLogits(subArgc, subArgv);
    if (cmd == "finetune") return cmdFinetune(subArgc, subArgv);
    if (cmd == "grads") return cmdGrads(subArgc, subArgv);
    if (cmd == "merge") return cmdMerge(subArgc, subArgv);
    if (cmd == "route") return cmdRoute(subArgc, subArgv);
    if (cmd == "report") return cmdReport(subArgc, subArgv);
    std::cerr << "moestudio-cli: unknown command '" << cmd << "' (see --help)\n";
    return 2;
}
