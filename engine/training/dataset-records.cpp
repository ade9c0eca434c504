// Record conversion and format detection (dataset-records.h). Key names and role spellings follow
// the published conventions: Stanford Alpaca (+ LLaMA-Factory's system/history), ShareGPT as
// LLaMA-Factory reads it (from/value, human/gpt/system), OpenAI's fine-tuning chat format.
#include "training/dataset-records.h"

namespace moe::dataset {

using nlohmann::json;

namespace {

Status bad(const std::string& what) {
    return Status(StatusCode::InvalidArgument, what);
}

// obj[key] as a string into out. required: a missing key is an error; null counts as missing.
Status getString(const json& obj, const std::string& where, const char* key, bool required,
                 std::string& out) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        if (required) return bad("missing key '" + where + key + "'");
        return Status::ok();
    }
    if (!it->is_string())
        return bad("'" + where + key + "' must be a string, got " + std::string(it->type_name()));
    out = it->get<std::string>();
    return Status::ok();
}

Status alpaca(const json& j, std::vector<Turn>& turns) {
    std::string instruction, input, output, system;
    MOE_TRY(getString(j, "", "instruction", true, instruction));
    MOE_TRY(getString(j, "", "input", false, input));
    MOE_TRY(getString(j, "", "output", true, output));
    MOE_TRY(getString(j, "", "system", false, system));
    if (!system.empty()) turns.push_back({"system", system, true});
    if (auto h = j.find("history"); h != j.end() && !h->is_null()) {
        if (!h->is_array())
            return bad("'history' must be an array of [user, assistant] pairs, got " +
                       std::string(h->type_name()));
        for (size_t i = 0; i < h->size(); ++i) {
            const json& pair = (*h)[i];
            const std::string at = "history[" + std::to_string(i) + "]";
            if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() ||
                !pair[1].is_string())
                return bad("'" + at + "' must be a pair of strings [user, assistant], got " +
                           pair.dump());
            turns.push_back({"user", pair[0].get<std::string>(), true});
            turns.push_back({"assistant", pair[1].get<std::string>(), true});
        }
    }
    // LLaMA-Factory's join: the instruction, then the input on the next line.
    turns.push_back({"user", input.empty() ? instruction : instruction + "\n" + input, true});
    turns.push_back({"assistant", output, true});
    return Status::ok();
}

Status shareGpt(const json& j, std::vector<Turn>& turns) {
    std::string system;
    MOE_TRY(getString(j, "", "system", false, system));
    auto c = j.find("conversations");
    if (c == j.end()) return bad("missing key 'conversations'");
    if (!c->is_array())
        return bad("'conversations' must be an array, got " + std::string(c->type_name()));
    if (c->empty()) return bad("'conversations' is empty");
    if (!system.empty()) turns.push_back({"system", system, true});
    for (size_t i = 0; i < c->size(); ++i) {
        const json& m = (*c)[i];
        const std::string at = "conversations[" + std::to_string(i) + "].";
        if (!m.is_object())
            return bad("'conversations[" + std::to_string(i) + "]' must be an object, got " +
                       m.type_name());
        std::string from, value;
        MOE_TRY(getString(m, at, "from", true, from));
        MOE_TRY(getString(m, at, "value", true, value));
        std::string role;
        if (from == "human" || from == "user")
            role = "user";
        else if (from == "gpt" || from == "assistant")
            role = "assistant";
        else if (from == "system")
            role = "system";
        else
            return bad("'" + at + "from' is '" + from + "'; expected human, gpt or system");
        turns.push_back({role, value, true});
    }
    return Status::ok();
}

Status openAi(const json& j, std::vector<Turn>& turns) {
    auto ms = j.find("messages");
    if (ms == j.end()) return bad("missing key 'messages'");
    if (!ms->is_array())
        return bad("'messages' must be an array, got " + std::string(ms->type_name()));
    if (ms->empty()) return bad("'messages' is empty");
    for (size_t i = 0; i < ms->size(); ++i) {
        const json& m = (*ms)[i];
        const std::string at = "messages[" + std::to_string(i) + "].";
        if (!m.is_object())
            return bad("'messages[" + std::to_string(i) + "]' must be an object, got " +
                       m.type_name());
        Turn t;
        MOE_TRY(getString(m, at, "role", true, t.role));
        if (t.role != "system" && t.role != "user" && t.role != "assistant")
            return bad("'" + at + "role' is '" + t.role + "'; expected system, user or assistant");
        MOE_TRY(getString(m, at, "content", true, t.content));
        if (auto w = m.find("weight"); w != m.end()) {
            if (t.role != "assistant")
                return bad("'" + at + "weight' is only allowed on assistant messages");
            if (!w->is_number_integer() || (w->get<int64_t>() != 0 && w->get<int64_t>() != 1))
                return bad("'" + at + "weight' must be 0 or 1, got " + w->dump());
            t.train = w->get<int64_t>() == 1;
        }
        turns.push_back(std::move(t));
    }
    return Status::ok();
}

std::string keysOf(const json& j) {
    std::string keys;
    for (auto it = j.begin(); it != j.end(); ++it)
        keys += (keys.empty() ? "" : ", ") + it.key();
    return keys.empty() ? "none" : keys;
}

} // namespace

Result<DatasetFormat> formatOfRecord(const RecordReader& reader, const RawRecord& first) {
    if (reader.kind() == FileKind::Text) return DatasetFormat::PlainText;
    const json& j = first.value;
    if (j.contains("messages")) return DatasetFormat::OpenAiMessages;
    if (j.contains("conversations")) return DatasetFormat::ShareGpt;
    if (j.contains("instruction")) return DatasetFormat::Alpaca;
    if (j.contains("text")) return DatasetFormat::PlainText;
    return Status(StatusCode::InvalidArgument,
                  reader.location(first.index) +
                      ": cannot tell the dataset format from the keys (" + keysOf(j) +
                      "); expected 'instruction'+'output' (alpaca), 'conversations' (sharegpt), "
                      "'messages' (openai) or 'text' (text)");
}

Status convertRecord(const RawRecord& raw, DatasetFormat format, FileKind kind, Record& out) {
    out.index = raw.index;
    out.turns.clear();
    out.text.clear();
    if (kind == FileKind::Text) {
        if (format != DatasetFormat::PlainText)
            return bad(std::string("a plain text file cannot hold ") + datasetFormatName(format) +
                       " records (they are JSON or JSON Lines)");
        out.text = raw.text;
        return Status::ok();
    }
    switch (format) {
    case DatasetFormat::Alpaca:
        return alpaca(raw.value, out.turns);
    case DatasetFormat::ShareGpt:
        return shareGpt(raw.value, out.turns);
    case DatasetFormat::OpenAiMessages:
        return openAi(raw.value, out.turns);
    case DatasetFormat::PlainText:
        return getString(raw.value, "", "text", true, out.text);
    case DatasetFormat::Auto:
        break;
    }
    return Status(StatusCode::Internal, "convertRecord: the format must be resolved first");
}

std::vector<ChatMessage> toChatMessages(const std::vector<Turn>& turns) {
    std::vector<ChatMessage> messages;
    messages.reserve(turns.size());
    for (const Turn& t : turns)
        messages.push_back({t.role, t.content});
    return messages;
}

} // namespace moe::dataset
