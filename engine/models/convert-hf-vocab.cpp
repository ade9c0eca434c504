// Tokenizer keys of a converted GGUF (§9.10), the way convert_hf_to_gguf.py's _set_vocab_gpt2 and
// _set_vocab_sentencepiece write them: token strings in id order padded to the config's
// vocab_size with "[PAD<id>]" (type UNUSED), added tokens typed CONTROL (special) or USER_DEFINED,
// merges as "left right", the pre-tokenizer id, special ids and add_bos/add_eos. Special ids and
// add flags are taken from our own tokenizer.json loader (tokenizer_config.json's bos/eos tokens
// and add_bos_token, or the post-processor), so the GGUF tokenizes as the folder does.
#include "models/convert-hf.h"

#include "formats/hf/hf-config.h"
#include "tokenizers/bpe-tokenizer.h"
#include "tokenizers/byte-tokenizer.h" // TokenType
#include "tokenizers/pretokenizer.h"

#include <nlohmann/json.hpp>
#include <sentencepiece_processor.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace moe::convert {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

Result<Json> readJson(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status(StatusCode::NotFound, path + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    Json j = Json::parse(ss.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return Status(StatusCode::CorruptFile, path + ": not a JSON object");
    return j;
}

std::string typeOf(const Json& j) {
    return j.is_object() && j.contains("type") && j["type"].is_string()
               ? j["type"].get<std::string>()
               : std::string();
}

// llama.cpp's check text (convert_hf_to_gguf_update.py chktxt) plus letters, scripts and digit
// runs that tell the presets apart (Latin-1 and Greek letters, kana, hangul, CR LF, trailing
// blanks).
const char* const kCheckText =
    "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n\xF0\x9F\x9A\x80 (normal) "
    "\xF0\x9F\x98\xB6\xE2\x80\x8D\xF0\x9F\x8C\xAB\xEF\xB8\x8F (multiple emojis concatenated) "
    "\xE2\x9C\x85 "
    "\xF0\x9F\xA6\x99\xF0\x9F\xA6\x99 3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 "
    "\xE1\x9E\x80\xE1\x9E\xB6\xE1\x9E\x93\xE1\x9F\x8B\xE1\x9E\x8F\xE1\x9F\x82 ?"
    "\xE6\x88\x91\xE6\x83\xB3\xE5\x9C\xA8"
    "apple\xE5\xB7\xA5\xE4\xBD\x9C"
    "1314151\xE5\xA4\xA9\xEF\xBD\x9E "
    "------======= \xD0\xBD\xD0\xB5\xD1\x89\xD0\xBE \xD0\xBD\xD0\xB0 "
    "''''''```````\"\"\"\"......!!!!!!?????? I've been 'told he's there, 'RE you sure? 'M not sure "
    "I'll "
    "make it, 'D you like some tea? We'Ve a'lL \xC3\x9Cn\xC3\xAF"
    "c\xC3\xB6"
    "d\xC3\xA9 \xC2\xB5s "
    "\xCE\x91\xCE\x92\xCE\x93 \xE3\x81\x93\xE3\x82\x93 \xE3\x82\xAB\xE3\x82\xBF "
    "\xED\x95\x9C\xEA\xB5\xAD "
    "x=1;y+=22\r\nend.\"Quote\" (a)[b]{c} #tag @me $5 ~ok   ";

Status fail(const std::string& path, const std::string& where, const std::string& what) {
    return Status(StatusCode::Unsupported, path + ": " + where + " " + what);
}

// The pre_tokenizer of a tokenizer.json as a PreTokenizer: Sequence, Split and ByteLevel only
// (the byte-level BPE models of §10.3); byteLevel tells whether a ByteLevel step was seen.
Status buildPre(const std::string& path, const std::string& where, const Json& j, PreTokenizer& out,
                bool& byteLevel) {
    if (j.is_null()) return Status::ok();
    const std::string type = typeOf(j);
    if (type == "Sequence") {
        const Json& list = j.value("pretokenizers", Json::array());
        for (size_t k = 0; k < list.size(); ++k)
            MOE_TRY(buildPre(path, where + ".pretokenizers[" + std::to_string(k) + "]", list[k],
                             out, byteLevel));
        return Status::ok();
    }
    if (type == "ByteLevel") {
        byteLevel = true;
        return out.addByteLevel(j.value("add_prefix_space", false), j.value("use_regex", true));
    }
    if (type == "Split") {
        const Json& pat = j.value("pattern", Json::object());
        const bool literal = pat.contains("String");
        const char* key = literal ? "String" : "Regex";
        if (!pat.contains(key) || !pat[key].is_string())
            return fail(path, where, "has no pattern string");
        auto re = Regex::compile(pat[key].get<std::string>(), literal);
        if (!re.isOk())
            return Status(re.status().code(), path + ": " + where + ": " + re.status().message());
        const std::string b = j.value("behavior", std::string("Isolated"));
        SplitBehavior behavior = SplitBehavior::Isolated;
        if (b == "Removed")
            behavior = SplitBehavior::Removed;
        else if (b == "MergedWithPrevious")
            behavior = SplitBehavior::MergedWithPrevious;
        else if (b == "MergedWithNext")
            behavior = SplitBehavior::MergedWithNext;
        else if (b == "Contiguous")
            behavior = SplitBehavior::Contiguous;
        out.addSplit(std::move(re).value(), behavior, j.value("invert", false));
        return Status::ok();
    }
    return fail(path, where, "of type '" + type + "' has no llama.cpp pre-tokenizer id");
}

// True when the normalizer is NFC; false when there is none; Unsupported for anything else
// (llama.cpp's gpt2 vocabularies normalize nothing but Qwen's NFC).
Result<bool> isNfc(const std::string& path, const Json& j) {
    if (j.is_null()) return false;
    const std::string type = typeOf(j);
    if (type == "NFC") return true;
    if (type == "Sequence") {
        bool nfc = false;
        for (const Json& step : j.value("normalizers", Json::array())) {
            MOE_ASSIGN_OR_RETURN(bool one, isNfc(path, step));
            nfc = nfc || one;
        }
        return nfc;
    }
    return fail(path, "normalizer", "of type '" + type + "' has no llama.cpp pre-tokenizer id");
}

Status gpt2Keys(const std::string& dir, const std::string& jsonPath, const ModelSpec& spec,
                gguf::GgufWriter& w, std::string& summary) {
    MOE_ASSIGN_OR_RETURN(Json j, readJson(jsonPath));
    const Json& model = j.value("model", Json::object());
    if (typeOf(model) != "BPE" && !(model.contains("merges") && model.contains("vocab")))
        return Status(StatusCode::Unsupported,
                      jsonPath + ": model of type '" + typeOf(model) +
                          "' is not byte-level BPE (tokenizer.ggml.model gpt2)");
    MOE_ASSIGN_OR_RETURN(const std::string pre, detectPreTokenizer(jsonPath, spec.architecture));
    const std::string configPath = dir + "/tokenizer_config.json";
    std::error_code ec;
    MOE_ASSIGN_OR_RETURN(auto tok,
                         BpeTokenizer::fromTokenizerJson(
                             jsonPath, fs::exists(configPath, ec) ? configPath : std::string()));

    const size_t n = size_t(spec.nVocab);
    std::vector<std::string> tokens(n);
    std::vector<int32_t> types(n, int32_t(TokenType::Unused));
    std::vector<uint8_t> set(n, 0);
    auto put = [&](int64_t id, const std::string& text, TokenType type,
                   const std::string& where) -> Status {
        if (id < 0 || id >= int64_t(n))
            return Status(StatusCode::CorruptFile,
                          jsonPath + ": " + where + " has id " + std::to_string(id) +
                              ", outside config.json vocab_size " + std::to_string(n));
        tokens[size_t(id)] = text;
        types[size_t(id)] = int32_t(type);
        set[size_t(id)] = 1;
        return Status::ok();
    };
    const Json& vocab = model.value("vocab", Json::object());
    if (!vocab.is_object())
        return Status(StatusCode::CorruptFile, jsonPath + ": model.vocab is not an object");
    for (const auto& [text, id] : vocab.items()) {
        if (!id.is_number_integer())
            return Status(StatusCode::CorruptFile,
                          jsonPath + ": model.vocab['" + text + "'] is not an id");
        MOE_TRY(put(id.get<int64_t>(), text, TokenType::Normal, "model.vocab['" + text + "']"));
    }
    const Json& added = j.value("added_tokens", Json::array());
    for (size_t k = 0; k < added.size(); ++k) {
        const Json& a = added[k];
        const std::string where = "added_tokens[" + std::to_string(k) + "]";
        if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() ||
            !a.contains("content") || !a["content"].is_string())
            return Status(StatusCode::CorruptFile,
                          jsonPath + ": " + where + " needs an integer id and a content string");
        MOE_TRY(put(a["id"].get<int64_t>(), a["content"].get<std::string>(),
                    a.value("special", false) ? TokenType::Control : TokenType::UserDefined,
                    where));
    }
    for (size_t id = 0; id < n; ++id)
        if (!set[id]) tokens[id] = "[PAD" + std::to_string(id) + "]";

    std::vector<std::string> merges;
    const Json& m = model.value("merges", Json::array());
    merges.reserve(m.size());
    for (size_t k = 0; k < m.size(); ++k) {
        if (m[k].is_string())
            merges.push_back(m[k].get<std::string>());
        else if (m[k].is_array() && m[k].size() == 2 && m[k][0].is_string() && m[k][1].is_string())
            merges.push_back(m[k][0].get<std::string>() + " " + m[k][1].get<std::string>());
        else
            return Status(StatusCode::CorruptFile, jsonPath + ": model.merges[" +
                                                       std::to_string(k) +
                                                       "] is neither \"a b\" nor [\"a\", \"b\"]");
    }

    w.addString("tokenizer.ggml.model", "gpt2");
    w.addString("tokenizer.ggml.pre", pre);
    w.addStringArray("tokenizer.ggml.tokens", tokens);
    w.addInt32Array("tokenizer.ggml.token_type", types);
    w.addStringArray("tokenizer.ggml.merges", merges);
    const int bos = tok->bosId() >= 0 ? tok->bosId() : spec.bosId;
    const int eos = tok->eosId() >= 0 ? tok->eosId() : (spec.eosIds.empty() ? -1 : spec.eosIds[0]);
    if (bos >= 0) w.addUInt32("tokenizer.ggml.bos_token_id", uint32_t(bos));
    if (eos >= 0) w.addUInt32("tokenizer.ggml.eos_token_id", uint32_t(eos));
    const bool addBos = !tok->prefixIds().empty() && tok->prefixIds().front() == bos;
    const bool addEos = !tok->suffixIds().empty() && tok->suffixIds().back() == eos;
    w.addBool("tokenizer.ggml.add_bos_token", addBos);
    w.addBool("tokenizer.ggml.add_eos_token", addEos);
    summary = "gpt2 (pre " + pre + "), " + std::to_string(n) + " tokens, " +
              std::to_string(merges.size()) + " merges";
    return Status::ok();
}

Status spmKeys(const std::string& dir, const std::string& modelPath, const ModelSpec& spec,
               gguf::GgufWriter& w, std::string& summary) {
    sentencepiece::SentencePieceProcessor sp;
    const auto st = sp.Load(modelPath);
    if (!st.ok()) return Status(StatusCode::CorruptFile, modelPath + ": " + st.ToString());
    const int pieces = sp.GetPieceSize();
    if (pieces > spec.nVocab)
        return Status(StatusCode::CorruptFile, modelPath + ": " + std::to_string(pieces) +
                                                   " pieces, more than config.json vocab_size " +
                                                   std::to_string(spec.nVocab));
    const size_t n = size_t(spec.nVocab);
    std::vector<std::string> tokens(n);
    std::vector<float> scores(n, -1000.0f);
    std::vector<int32_t> types(n, int32_t(TokenType::Unused));
    for (int id = 0; id < pieces; ++id) {
        tokens[size_t(id)] = sp.IdToPiece(id);
        scores[size_t(id)] = sp.GetScore(id);
        TokenType t = TokenType::Normal;
        if (sp.IsUnknown(id))
            t = TokenType::Unknown;
        else if (sp.IsControl(id))
            t = TokenType::Control;
        else if (sp.IsUnused(id))
            t = TokenType::Unused;
        else if (sp.IsByte(id))
            t = TokenType::Byte;
        types[size_t(id)] = int32_t(t);
    }
    for (size_t id = size_t(pieces); id < n; ++id)
        tokens[id] = "[PAD" + std::to_string(id) + "]";
    // tokenizer_config.json: added tokens (llama.cpp's added_tokens_decoder pass) and add_*_token.
    bool addBos = true, addEos = false;
    const std::string configPath = dir + "/tokenizer_config.json";
    std::error_code ec;
    if (fs::exists(configPath, ec)) {
        MOE_ASSIGN_OR_RETURN(Json cfg, readJson(configPath));
        if (cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean())
            addBos = cfg["add_bos_token"].get<bool>();
        if (cfg.contains("add_eos_token") && cfg["add_eos_token"].is_boolean())
            addEos = cfg["add_eos_token"].get<bool>();
        const Json& dec = cfg.value("added_tokens_decoder", Json::object());
        for (const auto& [key, a] : dec.items()) {
            char* end = nullptr;
            const long id = std::strtol(key.c_str(), &end, 10);
            if (!end || *end || id < 0 || id >= long(n) || !a.is_object() ||
                !a.contains("content") || !a["content"].is_string())
                return Status(StatusCode::CorruptFile,
                              configPath + ": added_tokens_decoder['" + key +
                                  "'] is not {content, special} for an id below vocab_size");
            tokens[size_t(id)] = a["content"].get<std::string>();
            types[size_t(id)] =
                int32_t(a.value("special", false) ? TokenType::Control : TokenType::UserDefined);
            if (id >= pieces) scores[size_t(id)] = 0.0f;
        }
    }
    w.addString("tokenizer.ggml.model", "llama");
    w.addString("tokenizer.ggml.pre", "default");
    w.addStringArray("tokenizer.ggml.tokens", tokens);
    w.addFloat32Array("tokenizer.ggml.scores", scores);
    w.addInt32Array("tokenizer.ggml.token_type", types);
    const std::pair<const char*, int> ids[] = {{"tokenizer.ggml.bos_token_id", sp.bos_id()},
                                               {"tokenizer.ggml.eos_token_id", sp.eos_id()},
                                               {"tokenizer.ggml.unknown_token_id", sp.unk_id()},
                                               {"tokenizer.ggml.padding_token_id", sp.pad_id()}};
    for (const auto& [key, id] : ids)
        if (id >= 0) w.addUInt32(key, uint32_t(id));
    w.addBool("tokenizer.ggml.add_bos_token", addBos);
    w.addBool("tokenizer.ggml.add_eos_token", addEos);
    summary = "llama (SentencePiece), " + std::to_string(n) + " tokens";
    return Status::ok();
}

// Does the tokenizer.json's pre-tokenizer map bytes (a ByteLevel step anywhere in it)?
// Mixtral-style tokenizer.json files (Metaspace, byte fallback) are SentencePiece in disguise:
// their tokenizer.model is used instead.
bool hasByteLevel(const Json& j) {
    if (typeOf(j) == "ByteLevel") return true;
    if (j.is_object() && j.contains("pretokenizers") && j["pretokenizers"].is_array())
        for (const Json& step : j["pretokenizers"])
            if (hasByteLevel(step)) return true;
    return false;
}

bool isByteLevel(const std::string& jsonPath) {
    auto j = readJson(jsonPath);
    return !j.isOk() ||
           hasByteLevel(j->value("pre_tokenizer", Json())); // unreadable: gpt2Keys reports it
}

} // namespace

Result<std::string> detectPreTokenizer(const std::string& path, const std::string& arch) {
    MOE_ASSIGN_OR_RETURN(Json j, readJson(path));
    PreTokenizer mine;
    bool byteLevel = false;
    MOE_TRY(buildPre(path, "pre_tokenizer", j.value("pre_tokenizer", Json()), mine, byteLevel));
    if (!byteLevel)
        return fail(path, "pre_tokenizer",
                    "has no ByteLevel step (not a byte-level BPE tokenizer)");
    MOE_ASSIGN_OR_RETURN(const bool nfc, isNfc(path, j.value("normalizer", Json())));
    const std::vector<std::string> want = mine.run(kCheckText);
    const char* const kCandidates[] = {"qwen2",     "deepseek-v3",    "deepseek-llm",
                                       "llama-bpe", "deepseek-coder", "gpt-2"};
    for (const char* name : kCandidates) {
        if (nfc != (std::string(name) == "qwen2")) continue;
        PreTokenizer preset;
        // Every preset compiles (test-bpe-presets); one that does not is a bug, reported.
        for (const std::string& re : BpeTokenizer::presetRegexes(name)) {
            MOE_ASSIGN_OR_RETURN(auto r, Regex::compile(re));
            preset.addSplit(std::move(r), SplitBehavior::Isolated, false);
        }
        MOE_TRY(preset.addByteLevel(false, false));
        if (preset.run(kCheckText) == want)
            return std::string(std::string(name) == "gpt-2" && arch == "olmoe" ? "olmo" : name);
    }
    const std::string dir = fs::path(path).parent_path().string();
    return Status(
        StatusCode::Unsupported,
        dir + ": the pre-tokenizer of tokenizer.json" + (nfc ? " (with NFC)" : "") +
            " matches no known llama.cpp pre-tokenizer (tried qwen2, deepseek-v3, deepseek-llm, "
            "llama-bpe, deepseek-coder, gpt-2/olmo)");
}

Result<std::string> addTokenizerKeys(const std::string& dir, const ModelSpec& spec,
                                     gguf::GgufWriter& w) {
    std::error_code ec;
    const std::string jsonPath = dir + "/tokenizer.json", spmPath = dir + "/tokenizer.model";
    const bool hasJson = fs::exists(jsonPath, ec), hasSpm = fs::exists(spmPath, ec);
    std::string summary;
    if (hasJson && (!hasSpm || isByteLevel(jsonPath))) {
        MOE_TRY(gpt2Keys(dir, jsonPath, spec, w, summary));
    } else if (hasSpm) {
        MOE_TRY(spmKeys(dir, spmPath, spec, w, summary));
    } else {
        // No vocabulary: llama.cpp's "none" model; the config's special ids still travel.
        w.addString("tokenizer.ggml.model", "none");
        if (spec.bosId >= 0) w.addUInt32("tokenizer.ggml.bos_token_id", uint32_t(spec.bosId));
        if (!spec.eosIds.empty())
            w.addUInt32("tokenizer.ggml.eos_token_id", uint32_t(spec.eosIds[0]));
        summary = "none (the folder has no tokenizer.json or tokenizer.model)";
    }
    MOE_ASSIGN_OR_RETURN(const std::string chatTemplate, hf::readChatTemplate(dir));
    if (!chatTemplate.empty()) w.addString("tokenizer.chat_template", chatTemplate);
    return summary;
}

} // namespace moe::convert
