// Raw records of a dataset file, with the location of each for error messages. A file is one of
// three kinds, told apart by its extension and first non-blank byte: plain text (.txt, or not
// JSON at all: the whole file is one record), JSON Lines (one object a line, blank lines
// skipped, 1-based line numbers) or a JSON array (records numbered from 1). JSON Lines stream
// line by line; an array is parsed whole, or, when a record limit is given (preview, format
// detection), only up to that many elements through nlohmann's SAX interface, so a preview of a
// large file reads only its head.
#pragma once

#include "moe/status.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

namespace moe::dataset {

enum class FileKind { Text, JsonLines, JsonArray };

struct RawRecord {
    int64_t index = 0;    // 1-based line (JsonLines, Text) or element (JsonArray)
    nlohmann::json value; // JsonLines, JsonArray
    std::string text;     // Text: the document (or its head, under a byte limit)
};

class RecordReader {
public:
    // Opens path and finds its kind. maxRecords > 0 reads at most that many records (an array is
    // parsed only that far); maxTextBytes bounds a Text record (preview). NotFound, IoError, or
    // InvalidArgument for a .json/.jsonl file that does not start like JSON.
    static Result<std::unique_ptr<RecordReader>>
    open(const std::string& path, int64_t maxRecords = 0, size_t maxTextBytes = SIZE_MAX);

    FileKind kind() const { return m_kind; }
    const std::string& path() const { return m_path; }
    // "FILE:LINE" for lines, "FILE: record N" for array elements.
    std::string location(int64_t index) const;

    // The next record into out: true, or false at the end. Errors (InvalidArgument) name the
    // location: invalid JSON, a record that is not an object.
    Result<bool> next(RawRecord& out);
    // Fraction of the file consumed so far, for progress.
    double fraction() const;
    // Whether the file holds more than was read: a Text file longer than maxTextBytes, array
    // elements past the record limit, a further non-blank line. Reads ahead; call it last.
    bool moreAfterLimit();

private:
    RecordReader() = default;
    Status loadArray(int64_t maxRecords);

    std::string m_path;
    FileKind m_kind = FileKind::Text;
    std::ifstream m_in;
    uint64_t m_size = 0;
    uint64_t m_consumed = 0;
    int64_t m_line = 0;
    size_t m_maxTextBytes = SIZE_MAX;
    bool m_textDone = false;
    bool m_textComplete = true;
    nlohmann::json m_array; // JsonArray: the elements read
    size_t m_next = 0;
    bool m_arrayMore = false; // the limited parse stopped before the array's end
};

// The message of a JSON exception without nlohmann's "[json.exception...] " prefix.
std::string jsonErrorText(const std::exception& e);

} // namespace moe::dataset
