// `moestudio-cli convert HF_FOLDER OUT.gguf [--type T]`: a Hugging Face folder as one GGUF file,
// the way llama.cpp's convert_hf_to_gguf.py writes it (moe/quantize.h convertHfFolder). Without
// --type each weight keeps its type; with it the weights are quantized as `quantize` does.
#include "cli-args.h"
#include "cli-output.h"
#include "commands.h"

#include "moe/quantize.h"

#include <filesystem>

int cmdConvert(int argc, char** argv) {
    CliArgs args;
    if (!args.parse(argc, argv, {"type"}, {})) return cliUsage("convert: " + args.error());
    std::string names;
    for (const std::string& n : moe::quantizeTypeNames())
        names += (names.empty() ? "" : "|") + n;
    if (args.positional().size() != 2)
        return cliUsage("usage: moestudio-cli convert HF_FOLDER OUT.gguf [--type " + names + "]");
    const std::string& in = args.positional()[0];
    std::error_code ec;
    if (!std::filesystem::is_directory(in, ec))
        return cliFail(
            in +
            ": not a folder (convert reads a Hugging Face folder; quantize rewrites a GGUF file)");
    return runModelRewrite(in, args.positional()[1], args.value("type", ""));
}
