// CLI output helpers.
#include "cli-output.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

int cliFail(const std::string& message) {
    std::cerr << "moestudio-cli: " << message << "\n";
    return 1;
}

int cliUsage(const std::string& message) {
    std::cerr << message << (message.empty() || message.back() == '\n' ? "" : "\n");
    return 2;
}

std::string terminalSafe(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
            const unsigned cp = c == 0x7f ? 0x2421 : 0x2400 + c; // U+2400.. control pictures
            out += char(0xE0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3f));
            out += char(0x80 | (cp & 0x3f));
        } else {
            out += char(c);
        }
    }
    return out;
}

std::string statsLine(const moe::GenerationStats& s) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "%d tokens (%s) | prompt %d tok | TTFT %.1f ms | prefill %.0f tok/s | decode %.1f tok/s",
                  s.generatedTokens, moe::stopReasonName(s.stopReason), s.promptTokens, s.ttftMs,
                  s.prefillTokPerSec, s.decodeTokPerSec);
    return buf;
}

const std::set<std::string>& samplingOptions() {
    static const std::set<std::string> k = {
        "temperature",      "top-k",           "top-p",         "min-p",      "repeat-penalty",
        "presence-penalty", "frequency-penalty", "penalty-last-n", "logit-bias", "max-tokens",
        "seed",             "threads",         "ctx",           "device"};
    return k;
}

bool readSampling(CliArgs& args, moe::SamplingParams& p, moe::SessionOptions& so) {
    double temperature = p.temperature, topP = p.topP, minP = p.minP, repeat = p.repetitionPenalty,
           presence = p.presencePenalty, frequency = p.frequencyPenalty;
    long long lastN = p.penaltyLastN;
    long long topK = p.topK, maxTokens = p.maxTokens, seed = (long long)(p.seed & 0x7fffffffffffffffull),
              threads = so.nThreads, ctx = so.nCtx;
    if (!args.floatValue("temperature", 0, 100, temperature) || !args.floatValue("top-p", 0, 1, topP) ||
        !args.intValue("top-k", 0, 1 << 30, topK) || !args.intValue("max-tokens", 0, 1 << 24, maxTokens) ||
        !args.intValue("seed", 0, 0x7fffffffffffffffll, seed) ||
        !args.intValue("threads", 0, 1024, threads) || !args.intValue("ctx", 0, 1 << 22, ctx) ||
        !args.floatValue("min-p", 0, 1, minP) || !args.floatValue("repeat-penalty", 0.01, 100, repeat) ||
        !args.floatValue("presence-penalty", -100, 100, presence) ||
        !args.floatValue("frequency-penalty", -100, 100, frequency) ||
        !args.intValue("penalty-last-n", 0, 1 << 24, lastN))
        return false;
    so.device = args.value("device", so.device);
    if (auto bias = args.value("logit-bias")) {
        // "ID=BIAS[,ID=BIAS...]"
        size_t pos = 0;
        while (pos < bias->size()) {
            size_t end = bias->find(',', pos);
            if (end == std::string::npos) end = bias->size();
            const std::string item = bias->substr(pos, end - pos);
            char* e1 = nullptr;
            char* e2 = nullptr;
            const long id = std::strtol(item.c_str(), &e1, 10);
            const float b = (*e1 == '=') ? std::strtof(e1 + 1, &e2) : 0.0f;
            if (*e1 != '=' || e2 == e1 + 1 || *e2 || id < 0) {
                std::cerr << "--logit-bias: '" << item << "' is not ID=BIAS\n";
                return false;
            }
            p.logitBias[int32_t(id)] = b;
            pos = end + 1;
        }
    }
    p.minP = float(minP);
    p.repetitionPenalty = float(repeat);
    p.presencePenalty = float(presence);
    p.frequencyPenalty = float(frequency);
    p.penaltyLastN = int(lastN);
    p.temperature = float(temperature);
    p.topP = float(topP);
    p.topK = int(topK);
    p.maxTokens = int(maxTokens);
    p.seed = uint64_t(seed);
    so.nThreads = int(threads);
    so.nCtx = int(ctx);
    return true;
}
