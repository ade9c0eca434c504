// Dataset files as raw records (dataset-reader.h): kind detection, JSON Lines streaming, whole or
// head-only JSON arrays, and locations for messages.
#include "training/dataset-reader.h"

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <vector>

namespace moe::dataset {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string lowerExtension(const std::string& path) {
    std::string ext = fs::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return ext;
}

bool isBlank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Cuts a trailing incomplete UTF-8 sequence (a byte limit may end inside a character).
void trimPartialUtf8(std::string& s) {
    size_t i = s.size();
    int back = 0;
    while (i > 0 && back < 4 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) {
        --i;
        ++back;
    }
    if (i == 0) return;
    const auto lead = static_cast<unsigned char>(s[i - 1]);
    const int need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
    if (need > back) s.resize(i - 1);
}

// Builds the first `limit` elements of a top-level JSON array and stops parsing there.
class ArrayHeadSax {
public:
    explicit ArrayHeadSax(int64_t limit) : m_limit(limit) {}

    json elements = json::array();
    bool notArray = false;
    bool stoppedEarly = false;
    std::string error;
    size_t errorByte = 0;

    bool null() { return value(json(nullptr)); }
    bool boolean(bool v) { return value(json(v)); }
    bool number_integer(json::number_integer_t v) { return value(json(v)); }
    bool number_unsigned(json::number_unsigned_t v) { return value(json(v)); }
    bool number_float(json::number_float_t v, const json::string_t&) { return value(json(v)); }
    bool string(json::string_t& v) { return value(json(std::move(v))); }
    bool binary(json::binary_t& v) { return value(json(json::binary_t(std::move(v)))); }
    bool start_object(size_t) {
        if (m_stack.empty()) return refuseTop();
        m_stack.push_back(place(json::object()));
        return true;
    }
    bool key(json::string_t& k) {
        m_key = &(*m_stack.back())[k];
        return true;
    }
    bool end_object() { return close(); }
    bool start_array(size_t) {
        if (m_stack.empty()) {
            m_stack.push_back(&elements);
            return true;
        }
        m_stack.push_back(place(json::array()));
        return true;
    }
    bool end_array() { return close(); }
    bool parse_error(size_t position, const std::string&, const nlohmann::detail::exception& ex) {
        error = jsonErrorText(ex);
        errorByte = position;
        return false;
    }

private:
    bool refuseTop() {
        notArray = true;
        return false;
    }
    json* place(json v) {
        json& parent = *m_stack.back();
        if (parent.is_array()) {
            parent.push_back(std::move(v));
            return &parent.back();
        }
        *m_key = std::move(v);
        return m_key;
    }
    bool value(json v) {
        if (m_stack.empty()) return refuseTop();
        place(std::move(v));
        return m_stack.size() > 1 || elementDone();
    }
    bool close() {
        m_stack.pop_back();
        return m_stack.size() != 1 || elementDone();
    }
    // An element of the top-level array is complete; false stops the parse at the limit.
    bool elementDone() {
        if (int64_t(elements.size()) < m_limit) return true;
        stoppedEarly = true;
        return false;
    }

    int64_t m_limit;
    std::vector<json*> m_stack;
    json* m_key = nullptr;
};

int64_t lineOfByte(const std::string& text, size_t byte) {
    byte = std::min(byte, text.size());
    return 1 + std::count(text.begin(), text.begin() + std::ptrdiff_t(byte), '\n');
}

} // namespace

std::string jsonErrorText(const std::exception& e) {
    std::string s = e.what();
    if (s.rfind("[json.exception.", 0) == 0) {
        const size_t close = s.find("] ");
        if (close != std::string::npos) s.erase(0, close + 2);
    }
    // "parse error at line 1, column 21: ..." -> "column 21: ..." (the caller names the line).
    if (s.rfind("parse error at line ", 0) == 0) {
        const size_t column = s.find("column ");
        if (column != std::string::npos) s.erase(0, column);
    }
    return s;
}

Result<std::unique_ptr<RecordReader>> RecordReader::open(const std::string& path,
                                                         int64_t maxRecords, size_t maxTextBytes) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        return Status(StatusCode::NotFound, path + ": no such file");
    std::unique_ptr<RecordReader> r(new RecordReader());
    r->m_path = path;
    r->m_maxTextBytes = maxTextBytes;
    r->m_size = fs::file_size(path, ec);
    r->m_in.open(path, std::ios::binary);
    if (!r->m_in) return Status(StatusCode::IoError, path + ": cannot open the file");

    // The first non-blank byte after an optional UTF-8 BOM.
    char first = 0;
    for (char c; r->m_in.get(c);) {
        if (isBlank(c) || c == '\xEF' || c == '\xBB' || c == '\xBF') continue;
        first = c;
        break;
    }
    r->m_in.clear();
    r->m_in.seekg(0);
    const std::string ext = lowerExtension(path);
    const bool jsonExt = ext == ".json" || ext == ".jsonl" || ext == ".ndjson";
    if (ext == ".txt") {
        r->m_kind = FileKind::Text;
    } else if (first == '[') {
        r->m_kind = FileKind::JsonArray;
    } else if (first == '{') {
        r->m_kind = FileKind::JsonLines;
    } else if (jsonExt) {
        if (first == 0) return Status(StatusCode::InvalidArgument, path + ": the file is empty");
        return Status(
            StatusCode::InvalidArgument,
            path + ": not JSON: expected '[' (a JSON array) or '{' (JSON Lines) first, got '" +
                std::string(1, first) + "'");
    } else {
        r->m_kind = FileKind::Text;
    }
    if (r->m_kind == FileKind::JsonArray) MOE_TRY(r->loadArray(maxRecords));
    return r;
}

Status RecordReader::loadArray(int64_t maxRecords) {
    if (maxRecords <= 0) {
        std::stringstream ss;
        ss << m_in.rdbuf();
        const std::string text = ss.str();
        try {
            m_array = json::parse(text);
        } catch (const json::parse_error& e) {
            return Status(StatusCode::InvalidArgument,
                          m_path + ":" + std::to_string(lineOfByte(text, e.byte)) +
                              ": invalid JSON: " + jsonErrorText(e));
        }
        if (!m_array.is_array())
            return Status(StatusCode::InvalidArgument,
                          m_path + ": expected a JSON array of records");
        return Status::ok();
    }
    ArrayHeadSax sax(maxRecords);
    const bool parsed = json::sax_parse(m_in, &sax);
    if (!parsed && !sax.stoppedEarly) {
        if (sax.notArray)
            return Status(StatusCode::InvalidArgument,
                          m_path + ": expected a JSON array of records");
        // Line of the error: count newlines up to its byte.
        m_in.clear();
        m_in.seekg(0);
        std::string head(sax.errorByte, '\0');
        m_in.read(head.data(), std::streamsize(head.size()));
        head.resize(size_t(m_in.gcount()));
        return Status(StatusCode::InvalidArgument,
                      m_path + ":" + std::to_string(lineOfByte(head, head.size())) +
                          ": invalid JSON: " + sax.error);
    }
    m_array = std::move(sax.elements);
    if (sax.stoppedEarly) {
        // The parse stopped right after an element's last byte: a ',' next means more follow.
        m_in.clear();
        char c = 0;
        while (m_in.get(c) && isBlank(c)) {
        }
        m_arrayMore = m_in && c != ']';
    }
    return Status::ok();
}

std::string RecordReader::location(int64_t index) const {
    if (m_kind == FileKind::JsonArray) return m_path + ": record " + std::to_string(index);
    return m_path + ":" + std::to_string(index);
}

Result<bool> RecordReader::next(RawRecord& out) {
    out.value = nullptr;
    out.text.clear();
    if (m_kind == FileKind::Text) {
        if (m_textDone) return false;
        m_textDone = true;
        const size_t want = size_t(std::min<uint64_t>(m_size, m_maxTextBytes));
        out.text.resize(want);
        m_in.read(out.text.data(), std::streamsize(want));
        out.text.resize(size_t(m_in.gcount()));
        if (out.text.rfind("\xEF\xBB\xBF", 0) == 0) out.text.erase(0, 3);
        m_textComplete = m_size <= m_maxTextBytes;
        if (!m_textComplete) trimPartialUtf8(out.text);
        out.index = 1;
        m_consumed = m_size;
        return true;
    }
    if (m_kind == FileKind::JsonArray) {
        if (m_next >= m_array.size()) return false;
        out.index = int64_t(m_next) + 1;
        out.value = std::move(m_array[m_next++]);
        if (!out.value.is_object())
            return Status(StatusCode::InvalidArgument,
                          location(out.index) + ": a record must be a JSON object, got " +
                              out.value.type_name());
        return true;
    }
    std::string line;
    while (std::getline(m_in, line)) {
        ++m_line;
        m_consumed += line.size() + 1;
        if (std::all_of(line.begin(), line.end(), isBlank)) continue;
        out.index = m_line;
        try {
            out.value = json::parse(line);
        } catch (const json::parse_error& e) {
            return Status(StatusCode::InvalidArgument,
                          location(m_line) + ": invalid JSON: " + jsonErrorText(e));
        }
        if (!out.value.is_object())
            return Status(StatusCode::InvalidArgument,
                          location(m_line) + ": a record must be a JSON object, got " +
                              out.value.type_name());
        return true;
    }
    if (m_in.bad())
        return Status(StatusCode::IoError,
                      m_path + ": read failed after line " + std::to_string(m_line));
    return false;
}

bool RecordReader::moreAfterLimit() {
    switch (m_kind) {
    case FileKind::Text:
        return m_textDone ? !m_textComplete : m_size > 0;
    case FileKind::JsonArray:
        return m_next < m_array.size() || m_arrayMore;
    case FileKind::JsonLines:
        break;
    }
    std::string line;
    while (std::getline(m_in, line))
        if (!std::all_of(line.begin(), line.end(), isBlank)) return true;
    return false;
}

double RecordReader::fraction() const {
    if (m_kind == FileKind::JsonArray)
        return m_array.empty() ? 1.0 : double(m_next) / double(m_array.size());
    return m_size == 0 ? 1.0 : std::min(1.0, double(m_consumed) / double(m_size));
}

} // namespace moe::dataset
