// `moestudio-cli quantize IN.gguf OUT.gguf --type T`: rewrites a model with its weight matrices in
// another type (moe/quantize.h) and prints what it wrote: per type, tensor count and bytes, then
// the total size before and after.
#include "cli-args.h"
#include "cli-output.h"
#include "commands.h"

#include "moe/quantize.h"

#include <cstdio>
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

int cmdQuantize(int argc, char** argv) {
    CliArgs args;
    if (!args.parse(argc, argv, {"type"}, {})) return cliUsage("quantize: " + args.error());
    std::string names;
    for (const std::string& n : moe::quantizeTypeNames()) names += (names.empty() ? "" : "|") + n;
    auto type = args.value("type");
    if (!type || args.positional().size() != 2)
        return cliUsage("usage: moestudio-cli quantize IN.gguf OUT.gguf --type " + names);
    const std::string& in = args.positional()[0];
    const std::string& out = args.positional()[1];
    auto report = moe::quantizeModelFile(in, out, *type, [](int done, int total) {
        std::cerr << "\rquantizing tensor " << done << "/" << total << std::flush;
        return true;
    });
    std::cerr << "\n";
    if (!report.isOk()) return cliFail(report.status().message());
    printTypes("input types:", report->before);
    printTypes("output types:", report->after);
    for (const std::string& f : report->fallbacks) std::cout << "fallback " << f << "\n";
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.2fx", report->bytesAfter ? double(report->bytesBefore) / double(report->bytesAfter) : 0.0);
    std::cout << "wrote " << out << " (" << *type << "): tensor data " << mib(report->bytesBefore) << " -> "
              << mib(report->bytesAfter) << " (" << ratio << " smaller)\n";
    return 0;
}
