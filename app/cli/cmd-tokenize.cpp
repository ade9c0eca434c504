// `moestudio-cli tokenize` and `detokenize`: text <-> token ids with a model's tokenizer (a GGUF
// file, a Hugging Face folder or a tokenizer.json), for checking prompts and comparing with other
// tools. One input per line of output; --input-json / --output-json for batches.
#include "cli-args.h"
#include "cli-output.h"
#include "commands.h"

#include "moe/tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

bool readJsonFile(const std::string& path, nlohmann::json& out, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path + ": cannot open";
        return false;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    out = nlohmann::json::parse(ss.str(), nullptr, false);
    if (out.is_discarded()) {
        error = path + ": not valid JSON";
        return false;
    }
    return true;
}

bool writeText(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    return bool(out);
}

std::unique_ptr<moe::Tokenizer> openTokenizer(CliArgs& args, int& rc) {
    auto model = args.value("model");
    if (!model) {
        rc = cliUsage("--model PATH is required (a GGUF file, a model folder or a tokenizer.json)");
        return nullptr;
    }
    auto tok = moe::loadTokenizer(*model);
    if (!tok.isOk()) {
        rc = cliFail(tok.status().toString());
        return nullptr;
    }
    return std::move(tok).value();
}

} // namespace

int cmdTokenize(int argc, char** argv) {
    CliArgs args;
    if (!args.parse(argc, argv, {"model", "input-json", "output-json"}, {"no-special", "verbose"}))
        return cliUsage(std::string(argv[0]) + ": " + args.error());
    int rc = 0;
    auto tok = openTokenizer(args, rc);
    if (!tok) return rc;

    std::vector<std::string> inputs;
    if (auto in = args.value("input-json")) {
        if (!args.positional().empty()) return cliUsage("give TEXT or --input-json, not both");
        nlohmann::json j;
        std::string error;
        if (!readJsonFile(*in, j, error)) return cliFail(error);
        if (!j.is_array()) return cliFail(*in + ": expected a JSON list of strings");
        for (size_t i = 0; i < j.size(); ++i) {
            if (!j[i].is_string())
                return cliFail(*in + ": item " + std::to_string(i) + " is not a string");
            inputs.push_back(j[i].get<std::string>());
        }
    } else {
        if (args.positional().size() != 1)
            return cliUsage("tokenize takes one TEXT (quote it) or --input-json FILE");
        inputs.push_back(args.positional()[0]);
    }
    const bool addSpecial = !args.has("no-special");
    nlohmann::json all = nlohmann::json::array();
    std::string text;
    for (const std::string& input : inputs) {
        const std::vector<int32_t> ids = tok->encode(input, addSpecial);
        all.push_back(ids);
        for (size_t i = 0; i < ids.size(); ++i) {
            if (i) text += ' ';
            text += std::to_string(ids[i]);
            if (args.has("verbose")) {
                text += ':';
                text += terminalSafe(nlohmann::json(tok->tokenName(ids[i])).dump());
            }
        }
        text += "\n";
    }
    if (auto out = args.value("output-json")) {
        if (!writeText(*out, all.dump() + "\n")) return cliFail(*out + ": cannot write");
        return 0;
    }
    std::cout << text;
    return 0;
}

int cmdDetokenize(int argc, char** argv) {
    CliArgs args;
    if (!args.parse(argc, argv, {"model", "input-json", "output-json"}, {"skip-special"}))
        return cliUsage(std::string(argv[0]) + ": " + args.error());
    int rc = 0;
    auto tok = openTokenizer(args, rc);
    if (!tok) return rc;

    std::vector<std::vector<int32_t>> lists;
    if (auto in = args.value("input-json")) {
        nlohmann::json j;
        std::string error;
        if (!readJsonFile(*in, j, error)) return cliFail(error);
        if (!j.is_array()) return cliFail(*in + ": expected a JSON list of id lists");
        for (size_t i = 0; i < j.size(); ++i) {
            if (!j[i].is_array())
                return cliFail(*in + ": item " + std::to_string(i) + " is not a list of ids");
            std::vector<int32_t> ids;
            for (const auto& v : j[i]) {
                if (!v.is_number_integer())
                    return cliFail(*in + ": item " + std::to_string(i) + " holds a non-integer");
                ids.push_back(v.get<int32_t>());
            }
            lists.push_back(std::move(ids));
        }
    } else {
        if (args.positional().empty())
            return cliUsage("detokenize takes IDS... or --input-json FILE");
        std::vector<int32_t> ids;
        for (const std::string& s : args.positional()) {
            char* end = nullptr;
            const long v = std::strtol(s.c_str(), &end, 10);
            if (s.empty() || *end) return cliUsage("'" + s + "' is not a token id");
            ids.push_back(int32_t(v));
        }
        lists.push_back(std::move(ids));
    }
    nlohmann::json all = nlohmann::json::array();
    std::string text;
    for (const auto& ids : lists) {
        for (int32_t id : ids)
            if (id < 0 || id >= tok->vocabSize())
                return cliFail("token id " + std::to_string(id) + " is outside the vocabulary (" +
                               std::to_string(tok->vocabSize()) + ")");
        // Control tokens are shown by name unless --skip-special.
        std::string s;
        moe::TextStreamer streamer;
        for (int32_t id : ids) {
            if (tok->isControl(id)) {
                s += streamer.flush();
                if (!args.has("skip-special")) s += tok->tokenName(id);
            } else {
                s += streamer.push(tok->tokenBytes(id));
            }
        }
        s += streamer.flush();
        all.push_back(s);
        text += terminalSafe(s) + "\n";
    }
    if (auto out = args.value("output-json")) {
        if (!writeText(*out, all.dump() + "\n")) return cliFail(*out + ": cannot write");
        return 0;
    }
    std::cout << text;
    return 0;
}
