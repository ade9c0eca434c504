// Shared CLI output helpers: error lines, terminal-safe text, the generation stats line and the
// sampling options every generating command accepts.
#pragma once

#include "cli-args.h"
#include "moe/sampling.h"
#include "moe/session.h"

#include <set>
#include <string>

int cliFail(const std::string& message);  // prints "moestudio-cli: message", returns 1
int cliUsage(const std::string& message); // prints the message, returns 2

// Replaces C0 control characters (except \n and \t) and DEL with their Unicode control pictures,
// so a model's raw bytes cannot drive the terminal.
std::string terminalSafe(const std::string& text);

// "64 tokens (max_tokens) | prompt 17 tok | TTFT 4.1 ms | prefill 4100 tok/s | decode 812.3 tok/s"
std::string statsLine(const moe::GenerationStats& stats);

// --temperature --top-k --top-p --min-p --repeat-penalty --presence-penalty --frequency-penalty
// --penalty-last-n --logit-bias ID=B,.. --max-tokens --seed --threads --ctx
const std::set<std::string>& samplingOptions();
bool readSampling(CliArgs& args, moe::SamplingParams& params, moe::SessionOptions& session);
