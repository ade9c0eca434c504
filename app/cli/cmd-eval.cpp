// `moestudio-cli eval TYPE --model M ...`: one quality eval (perplexity, kl, choice, generation,
// routing) from flags, run as a one-entry benchmark suite — so it prints, records (--project)
// and names its metrics exactly as `bench run` does (docs/bench.md).
#include "cli-args.h"
#include "cli-bench-run.h"
#include "cli-output.h"
#include "commands.h"

#include <nlohmann/json.hpp>

namespace {

constexpr const char* kUsage =
    "usage: moestudio-cli eval TYPE --model PATH [--model PATH ...] [--project DIR] [--json] "
    "[--device D] [--threads N]\n"
    "  perplexity --file TEXT [--context 512] [--stride N]\n"
    "  kl         --file TEXT --reference MODEL [--context 512] [--stride N]\n"
    "  choice     --file ITEMS.jsonl [--delimiter \" \"] [--limit N] [--lm-eval-dir DIR]\n"
    "  generation --file ITEMS.jsonl [--scoring exact_match|contains|regex] [--max-tokens 64] "
    "[--chat]\n"
    "             [--until TEXT] [--limit N]\n"
    "  routing    --domain NAME=TEXT [--domain NAME=TEXT ...] [--context 512]";

} // namespace

int cmdEval(int argc, char** argv) {
    std::vector<std::string> models = takeRepeated(argc, argv, "model");
    std::vector<std::string> domains = takeRepeated(argc, argv, "domain");
    CliArgs args;
    if (!args.parse(argc, argv,
                    {"project", "device", "threads", "lm-eval-dir", "file", "context", "stride",
                     "reference", "delimiter", "limit", "scoring", "max-tokens", "until"},
                    {"json", "chat"}))
        return cliUsage("eval: " + args.error() + "\n" + kUsage);
    if (args.positional().size() != 1 || models.empty()) return cliUsage(kUsage);
    const std::string type = args.positional()[0];
    nlohmann::json entry = {{"type", type}};
    if (auto f = args.value("file")) entry["file"] = *f;
    for (const char* key : {"context", "stride", "limit", "max-tokens"}) {
        long long v = 0;
        if (!args.intValue(key, 0, 1 << 30, v)) return cliUsage("eval: " + args.error());
        std::string field = key;
        if (field == "max-tokens") field = "max_tokens";
        if (args.has(key)) entry[field] = v;
    }
    for (const char* key : {"reference", "delimiter", "scoring", "until"})
        if (auto v = args.value(key)) entry[key] = *v;
    if (args.has("chat")) entry["chat"] = true;
    if (type == "kl" && !args.has("reference"))
        return cliUsage("eval kl: --reference MODEL is required");
    if (!domains.empty()) {
        nlohmann::json d = nlohmann::json::object();
        for (const std::string& kv : domains) {
            const size_t eq = kv.find('=');
            if (eq == std::string::npos || eq == 0)
                return cliUsage("eval: --domain takes NAME=FILE, got \"" + kv + "\"");
            d[kv.substr(0, eq)] = kv.substr(eq + 1);
        }
        entry["domains"] = d;
    }
    const nlohmann::json suiteJson = {{"name", "eval-" + type}, {"quality", {entry}}};
    // The "suite file" is the command line: relative paths resolve against the working folder.
    auto suite = moe::parseBenchSuite(suiteJson.dump(), "eval " + type);
    if (!suite.isOk()) return cliFail(suite.status().message());
    SuiteCliOptions opts;
    if (!readSuiteCliOptions(args, opts)) return cliUsage("eval: " + args.error());
    std::unique_ptr<moe::projects::ProjectStore> store;
    if (auto dir = args.value("project")) {
        auto opened = moe::projects::ProjectStore::open(*dir);
        if (!opened.isOk()) return cliFail(opened.status().message());
        store = std::move(opened).value();
    }
    std::vector<SuiteTarget> targets;
    for (const std::string& m : models)
        targets.push_back({.path = m, .versionId = 0, .modelId = 0, .basePath = {}, .label = m});
    return runSuiteOnTargets(*suite, targets, store.get(), opts);
}
