// BpeTokenizer::fromTokenizerJson: HF tokenizer.json (+ tokenizer_config.json) -> BpeTokenizer.
// Every component type is checked: an unknown normalizer, pre-tokenizer, model or post-processor
// fails with Unsupported naming it and its JSON path, never silently ignored.
#include "tokenizers/bpe-tokenizer.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace moe {

namespace {

using Json = nlohmann::json;

Result<Json> readJson(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status(StatusCode::NotFound, path + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    Json j = Json::parse(ss.str(), nullptr, false);
    if (j.is_discarded()) return Status(StatusCode::CorruptFile, path + ": not valid JSON");
    return j;
}

// No published vocabulary comes near this (Gemma 3: 262k); a larger id would size the id table
// from one hostile number, so it is refused before anything is allocated.
constexpr int64_t kMaxTokenId = (int64_t(1) << 22) - 1;

// A token id field: a JSON integer in [0, kMaxTokenId]. Anything else (a float, a string, a
// negative or huge number) fails naming path, where and what was expected.
Result<int32_t> jsonTokenId(const std::string& path, const std::string& where, const Json& j) {
    if (j.is_number_unsigned() && j.get<uint64_t>() <= uint64_t(kMaxTokenId))
        return int32_t(j.get<uint64_t>());
    if (j.is_number_integer() && j.get<int64_t>() >= 0 && j.get<int64_t>() <= kMaxTokenId)
        return int32_t(j.get<int64_t>());
    return Status(StatusCode::CorruptFile, path + ": " + where + " is " + j.dump() +
                                               ", expected a token id from 0 to " +
                                               std::to_string(kMaxTokenId));
}

std::string typeOf(const Json& j) {
    return j.is_object() && j.contains("type") && j["type"].is_string()
               ? j["type"].get<std::string>()
               : std::string();
}

Status unsupported(const std::string& path, const std::string& where, const std::string& type) {
    return Status(StatusCode::Unsupported,
                  path + ": " + where + " of type '" + type + "' is not supported by this engine");
}

Status parseNormalizer(const std::string& path, const std::string& where, const Json& j,
                       Normalizer& out) {
    if (j.is_null()) return Status::ok();
    const std::string type = typeOf(j);
    using K = Normalizer::Step::Kind;
    Normalizer::Step step;
    if (type == "Sequence") {
        const Json& list = j.value("normalizers", Json::array());
        for (size_t k = 0; k < list.size(); ++k)
            MOE_TRY(parseNormalizer(path, where + ".normalizers[" + std::to_string(k) + "]",
                                    list[k], out));
        return Status::ok();
    }
    if (type == "NFC")
        step.kind = K::Nfc;
    else if (type == "NFD")
        step.kind = K::Nfd;
    else if (type == "NFKC")
        step.kind = K::Nfkc;
    else if (type == "NFKD")
        step.kind = K::Nfkd;
    else if (type == "Lowercase")
        step.kind = K::Lowercase;
    else if (type == "Prepend") {
        step.kind = K::Prepend;
        step.a = j.value("prepend", std::string());
    } else if (type == "Replace" && j.contains("pattern") && j["pattern"].contains("String")) {
        step.kind = K::Replace;
        step.a = j["pattern"]["String"].get<std::string>();
        step.b = j.value("content", std::string());
    } else {
        return unsupported(path, where, type.empty() ? j.dump() : type);
    }
    out.add(std::move(step));
    return Status::ok();
}

Result<SplitBehavior> parseBehavior(const std::string& path, const std::string& where,
                                    const std::string& b) {
    if (b == "Removed") return SplitBehavior::Removed;
    if (b == "Isolated") return SplitBehavior::Isolated;
    if (b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
    if (b == "MergedWithNext") return SplitBehavior::MergedWithNext;
    if (b == "Contiguous") return SplitBehavior::Contiguous;
    return Status(StatusCode::CorruptFile,
                  path + ": " + where + ".behavior '" + b + "' is not a split behaviour");
}

Status parsePreTokenizer(const std::string& path, const std::string& where, const Json& j,
                         PreTokenizer& out) {
    if (j.is_null()) return Status::ok();
    const std::string type = typeOf(j);
    if (type == "Sequence") {
        const Json& list = j.value("pretokenizers", Json::array());
        for (size_t k = 0; k < list.size(); ++k)
            MOE_TRY(parsePreTokenizer(path, where + ".pretokenizers[" + std::to_string(k) + "]",
                                      list[k], out));
        return Status::ok();
    }
    if (type == "Split") {
        const Json& pat = j.value("pattern", Json::object());
        std::shared_ptr<const Regex> re;
        if (pat.contains("Regex") && pat["Regex"].is_string()) {
            auto r = Regex::compile(pat["Regex"].get<std::string>());
            if (!r.isOk())
                return Status(r.status().code(), path + ": " + where + ": " + r.status().message());
            re = std::move(r).value();
        } else if (pat.contains("String") && pat["String"].is_string()) {
            MOE_ASSIGN_OR_RETURN(re, Regex::compile(pat["String"].get<std::string>(), true));
        } else {
            return Status(StatusCode::CorruptFile,
                          path + ": " + where + ".pattern has neither Regex nor String");
        }
        MOE_ASSIGN_OR_RETURN(
            SplitBehavior b,
            parseBehavior(path, where, j.value("behavior", std::string("Isolated"))));
        out.addSplit(std::move(re), b, j.value("invert", false));
        return Status::ok();
    }
    if (type == "ByteLevel")
        return out.addByteLevel(j.value("add_prefix_space", false), j.value("use_regex", true));
    if (type == "Digits") {
        MOE_ASSIGN_OR_RETURN(
            auto re, Regex::compile(j.value("individual_digits", false) ? "\\p{N}" : "\\p{N}+"));
        out.addSplit(std::move(re), SplitBehavior::Isolated, false);
        return Status::ok();
    }
    if (type == "Whitespace") { // HF: \w+|[^\w\s]+, the matches kept
        MOE_ASSIGN_OR_RETURN(auto re, Regex::compile("\\w+|[^\\w\\s]+"));
        out.addSplit(std::move(re), SplitBehavior::Removed, true);
        return Status::ok();
    }
    if (type == "WhitespaceSplit") {
        MOE_ASSIGN_OR_RETURN(auto re, Regex::compile("\\s+"));
        out.addSplit(std::move(re), SplitBehavior::Removed, false);
        return Status::ok();
    }
    return unsupported(path, where, type.empty() ? j.dump() : type);
}

Result<int32_t> tokenId(const std::string& path, const std::string& where, const Json& j,
                        const std::unordered_map<std::string, int32_t>& ids) {
    std::string name;
    if (j.is_string())
        name = j.get<std::string>();
    else if (j.is_object() && j.contains("content"))
        name = j["content"].get<std::string>();
    else
        return -1;
    auto it = ids.find(name);
    if (it == ids.end())
        return Status(StatusCode::CorruptFile,
                      path + ": " + where + " '" + name + "' is not in the vocabulary");
    return it->second;
}

// TemplateProcessing / RobertaProcessing / BertProcessing / ByteLevel / Sequence -> ids around
// the single sequence $A.
Status parsePostProcessor(const std::string& path, const std::string& where, const Json& j,
                          std::vector<int32_t>& prefix, std::vector<int32_t>& suffix) {
    if (j.is_null()) return Status::ok();
    const std::string type = typeOf(j);
    if (type == "ByteLevel") return Status::ok(); // offsets only
    if (type == "Sequence") {
        const Json& list = j.value("processors", Json::array());
        for (size_t k = 0; k < list.size(); ++k)
            MOE_TRY(parsePostProcessor(path, where + ".processors[" + std::to_string(k) + "]",
                                       list[k], prefix, suffix));
        return Status::ok();
    }
    if (type == "TemplateProcessing") {
        const Json& specials = j.value("special_tokens", Json::object());
        bool seenA = false;
        for (const Json& item : j.value("single", Json::array())) {
            if (item.contains("Sequence")) {
                seenA = true;
                continue;
            }
            if (!item.contains("SpecialToken"))
                return Status(StatusCode::CorruptFile,
                              path + ": " + where +
                                  ".single has an item that is neither Sequence nor SpecialToken");
            const std::string name = item["SpecialToken"].value("id", std::string());
            if (!specials.contains(name))
                return Status(StatusCode::CorruptFile,
                              path + ": " + where + ".special_tokens lacks '" + name + "'");
            const Json& ids = specials[name].value("ids", Json::array());
            for (size_t k = 0; k < ids.size(); ++k) {
                MOE_ASSIGN_OR_RETURN(int32_t id, jsonTokenId(path, where + ".special_tokens['" + name +
                                                                       "'].ids[" + std::to_string(k) + "]",
                                                             ids[k]));
                (seenA ? suffix : prefix).push_back(id);
            }
        }
        return Status::ok();
    }
    if (type == "RobertaProcessing" || type == "BertProcessing") {
        for (const char* key : {"cls", "sep"}) {
            if (!j.contains(key) || j[key].size() != 2) continue;
            MOE_ASSIGN_OR_RETURN(int32_t id, jsonTokenId(path, where + "." + key + "[1]", j[key][1]));
            (std::string(key) == "cls" ? prefix : suffix).push_back(id);
        }
        return Status::ok();
    }
    return unsupported(path, where, type.empty() ? j.dump() : type);
}

} // namespace

Result<std::unique_ptr<BpeTokenizer>>
BpeTokenizer::fromTokenizerJson(const std::string& path, const std::string& configPath) {
    MOE_ASSIGN_OR_RETURN(Json root, readJson(path));
    Json config = Json::object();
    if (!configPath.empty()) {
        MOE_ASSIGN_OR_RETURN(config, readJson(configPath));
    }
    try {
        auto tok = std::unique_ptr<BpeTokenizer>(new BpeTokenizer());
        const Json& model = root.value("model", Json::object());
        const std::string modelType = model.value("type", std::string("BPE"));
        if (modelType != "BPE") return unsupported(path, "model", modelType);
        if (model.contains("dropout") && model["dropout"].is_number() &&
            model["dropout"].get<double>() > 0)
            return Status(StatusCode::Unsupported,
                          path + ": model.dropout is set; BPE dropout is for training only");
        for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
            if (model.contains(key) && model[key].is_string() &&
                !model[key].get<std::string>().empty())
                return Status(StatusCode::Unsupported,
                              path + ": model." + key + " '" + model[key].get<std::string>() +
                                  "' is not supported (byte-level BPE has none)");
        if (!model.contains("vocab") || !model["vocab"].is_object())
            return Status(StatusCode::CorruptFile,
                          path + ": model.vocab is missing or not an object");

        int32_t maxId = -1;
        for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) {
            MOE_ASSIGN_OR_RETURN(const int32_t id,
                                 jsonTokenId(path, "model.vocab['" + it.key() + "']", it.value()));
            tok->m_vocab.emplace(it.key(), id);
            maxId = std::max(maxId, id);
        }
        const Json& added = root.value("added_tokens", Json::array());
        for (size_t k = 0; k < added.size(); ++k) {
            const Json& a = added[k];
            AddedToken t;
            t.content = a.value("content", std::string());
            if (!a.is_object() || !a.contains("id"))
                return Status(StatusCode::CorruptFile, path + ": added_tokens[" +
                                                           std::to_string(k) + "] lacks an id");
            MOE_ASSIGN_OR_RETURN(t.id, jsonTokenId(path, "added_tokens[" + std::to_string(k) + "].id",
                                                   a["id"]));
            t.special = a.value("special", false);
            t.lstrip = a.value("lstrip", false);
            t.rstrip = a.value("rstrip", false);
            t.singleWord = a.value("single_word", false);
            t.normalized = a.value("normalized", !t.special);
            if (t.id < 0 || t.content.empty())
                return Status(StatusCode::CorruptFile, path + ": added_tokens[" +
                                                           std::to_string(k) +
                                                           "] lacks an id or content");
            maxId = std::max(maxId, t.id);
            tok->m_added.push_back(std::move(t));
        }
        tok->m_names.assign(size_t(maxId + 1), std::string());
        for (const auto& [name, id] : tok->m_vocab)
            tok->m_names[size_t(id)] = name;
        std::unordered_map<std::string, int32_t> allIds = tok->m_vocab;
        for (const AddedToken& t : tok->m_added) {
            tok->m_names[size_t(t.id)] = t.content;
            allIds[t.content] = t.id;
        }

        const Json& merges = model.value("merges", Json::array());
        for (size_t k = 0; k < merges.size(); ++k) {
            std::string a, b;
            if (merges[k].is_string()) {
                const std::string s = merges[k].get<std::string>();
                const size_t sp = s.find(' ');
                if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
                    return Status(StatusCode::CorruptFile, path + ": model.merges[" +
                                                               std::to_string(k) + "] '" + s +
                                                               "' is not \"left right\"");
                a = s.substr(0, sp);
                b = s.substr(sp + 1);
            } else if (merges[k].is_array() && merges[k].size() == 2) {
                a = merges[k][0].get<std::string>();
                b = merges[k][1].get<std::string>();
            } else {
                return Status(StatusCode::CorruptFile, path + ": model.merges[" +
                                                           std::to_string(k) +
                                                           "] is neither a string nor a pair");
            }
            auto ia = tok->m_vocab.find(a), ib = tok->m_vocab.find(b),
                 im = tok->m_vocab.find(a + b);
            if (ia == tok->m_vocab.end() || ib == tok->m_vocab.end() || im == tok->m_vocab.end())
                return Status(StatusCode::CorruptFile,
                              path + ": model.merges[" + std::to_string(k) + "] ('" + a + "', '" +
                                  b + "') uses or makes a token missing from model.vocab");
            tok->m_merges.emplace(pairKey(ia->second, ib->second), Merge{int32_t(k), im->second});
        }
        tok->m_ignoreMerges = model.value("ignore_merges", false);
        tok->m_byteFallback = model.value("byte_fallback", false);
        tok->m_fuseUnk = model.value("fuse_unk", false);
        if (model.contains("unk_token") && model["unk_token"].is_string()) {
            auto it = allIds.find(model["unk_token"].get<std::string>());
            if (it != allIds.end()) tok->m_unk = it->second;
        }

        MOE_TRY(parseNormalizer(path, "normalizer", root.value("normalizer", Json()),
                                tok->m_normalizer));
        MOE_TRY(parsePreTokenizer(path, "pre_tokenizer", root.value("pre_tokenizer", Json()),
                                  tok->m_pre));
        MOE_TRY(parsePostProcessor(path, "post_processor", root.value("post_processor", Json()),
                                   tok->m_prefix, tok->m_suffix));
        const Json& decoder = root.value("decoder", Json());
        const std::string decType = typeOf(decoder);
        tok->m_byteLevelDecode =
            decType == "ByteLevel" ||
            (decType == "Sequence" && decoder.dump().find("\"ByteLevel\"") != std::string::npos) ||
            (decoder.is_null() && tok->m_pre.hasByteLevel());

        // Special-token ids: tokenizer_config.json names them; the template supplies BOS otherwise.
        MOE_ASSIGN_OR_RETURN(tok->m_bos, tokenId(configPath, "bos_token",
                                                 config.value("bos_token", Json()), allIds));
        MOE_ASSIGN_OR_RETURN(tok->m_eos, tokenId(configPath, "eos_token",
                                                 config.value("eos_token", Json()), allIds));
        if (tok->m_bos < 0 && !tok->m_prefix.empty()) tok->m_bos = tok->m_prefix.front();
        if (tok->m_eos < 0 && !tok->m_suffix.empty()) tok->m_eos = tok->m_suffix.back();
        for (const char* name : {"<|endoftext|>", "</s>", "<｜end▁of▁sentence｜>"})
            if (tok->m_eos < 0 && allIds.count(name)) tok->m_eos = allIds[name];
        for (const char* name : {"<|im_end|>", "<|eot_id|>"})
            if (tok->m_eot < 0 && allIds.count(name)) tok->m_eot = allIds[name];
        // add_bos_token / add_eos_token override the template on their side, as transformers'
        // LlamaTokenizerFast.update_post_processor does (DeepSeek ships a ByteLevel
        // post-processor and relies on add_bos_token: true).
        if (config.contains("add_bos_token") && config["add_bos_token"].is_boolean()) {
            tok->m_prefix.clear();
            if (config["add_bos_token"].get<bool>() && tok->m_bos >= 0)
                tok->m_prefix.push_back(tok->m_bos);
        }
        if (config.contains("add_eos_token") && config["add_eos_token"].is_boolean()) {
            tok->m_suffix.clear();
            if (config["add_eos_token"].get<bool>() && tok->m_eos >= 0)
                tok->m_suffix.push_back(tok->m_eos);
        }
        MOE_TRY(tok->finish(path));
        return tok;
    } catch (const Json::exception& e) {
        return Status(StatusCode::CorruptFile, path + ": unexpected JSON structure: " + e.what());
    }
}

} // namespace moe
