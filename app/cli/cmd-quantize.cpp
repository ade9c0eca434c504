// `moestudio-cli quantize IN OUT.gguf --type T`: rewrites a model with its weight matrices in
// another type (moe/quantize.h) and prints what it wrote: per type, tensor count and bytes, then
// the total size before and after. IN is a GGUF file or a Hugging Face folder (converted on the
// way, as `convert` does); runModelRewrite is shared with cmd-convert.cpp.
#include "cli-args.h"
#include "cli-output.h"
#include "commands.h"

#include "moe/quantize.h"

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace {

std::string mib(uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f MiB", double(bytes) / double(1ull << 20));
    return buf;
}

void printTypes(const char* title, const std::vector<moe::QuantizeTypeSummary>& types) {
    std::cout << title << "\n";
    for (const auto& t : types) {
        char line[128];
        std::snprintf(line, sizeof line, "  %-6s %5d tensors %12s\n", t.type.c_str(), t.tensors, mib(t.bytes).c_str());
        std::cout << line;
    }
}

} // namespace

int runModelRewrite(const std::string& in, const std::string& out, const std::string& type) {
    std::error_code ec;
    const bool folder = std::filesystem::is_directory(in, ec);
    const char* verb = folder ? "converting" : "quantizing";
    auto progress = [verb](int done, int total) {
        std::cerr << "\r" << verb << " tensor " << done << "/" << total << std::flush;
        return true;
    };
    auto report = folder ? moe::convertHfFolder(in, out, type, progress) : moe::quantizeModelFile(in, out, type, progress);
    std::cerr << "\n";
    if (!report.isOk()) return cliFail(report.status().message());
    printTypes("input types:", report->before);
    printTypes("output types:", report->after);
    for (const std::string& f : report->fallbacks) std::cout << "fallback " << f << "\n";
    if (folder) std::cout << "tokenizer: " << report->tokenizer << "\n";
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.2fx", report->bytesAfter ? double(report->bytesBefore) / double(report->bytesAfter) : 0.0);
    std::cout << "wrote " << out << " (" << (type.empty() ? std::string("types kept") : type) << "): tensor data "
              << mib(report->bytesBefore) << " -> " << mib(report->bytesAfter) << " (" << ratio << " smaller)\n";
    return 0;
}

int cmdQuantize(int argc, char** argv) {
    CliArgs args;
    if (!args.parse(argc, argv, {"type"}, {})) return cliUsage("quantize: " + args.error());
    std::string names;
    for (const std::string& n : moe::quantizeTypeNames()) names += (names.empty() ? "" : "|") + n;
    auto type = args.value("type");
    if (!type || args.positional().size() != 2)
        return cliUsage("usage: moestudio-cli quantize (IN.gguf | HF_FOLDER) OUT.gguf --type " + names);
    return runModelRewrite(args.positional()[0], args.positional()[1], *type);
}
