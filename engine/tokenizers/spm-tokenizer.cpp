// SpmTokenizer: sentencepiece::SentencePieceProcessor behind moe::Tokenizer. The GGUF path writes
// a ModelProto (sentencepiece_model.proto, proto2) with a small protobuf encoder: pieces = 1
// {piece = 1, score = 2, type = 3}, trainer_spec = 2, normalizer_spec = 3 (field numbers in
// model-formats.md §10.4). Piece types are read back from the serialized proto with an equally
// small decoder, because the processor API has no IsUserDefined().
#include "tokenizers/spm-tokenizer.h"

#include "tokenizers/byte-tokenizer.h" // TokenType

#include <sentencepiece_processor.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace moe {

namespace {

// sentencepiece's default TrainerSpec.unk_surface: what <unk> decodes to.
constexpr const char* kUnkSurface = " \xE2\x81\x87 ";
constexpr std::string_view kSpaceMark = "\xE2\x96\x81"; // U+2581 "▁"

// TrainerSpec.ModelType.
constexpr int32_t kModelUnigram = 1;
constexpr int32_t kModelBpe = 2;

// Protobuf wire types.
constexpr uint32_t kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5;

// Appends protobuf fields to a string. Negative int32 values are sign-extended to 10 bytes, as
// the protobuf encoding of int32 requires.
class ProtoWriter {
public:
    void varintField(uint32_t field, int64_t v) {
        tag(field, kVarint);
        varint(uint64_t(v));
    }
    void bytesField(uint32_t field, std::string_view s) {
        tag(field, kLen);
        varint(s.size());
        m_out.append(s);
    }
    void floatField(uint32_t field, float v) {
        tag(field, kFixed32);
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        for (int k = 0; k < 4; ++k)
            m_out.push_back(char((bits >> (8 * k)) & 0xFF));
    }
    const std::string& bytes() const { return m_out; }

private:
    void tag(uint32_t field, uint32_t wire) { varint((uint64_t(field) << 3) | wire); }
    void varint(uint64_t v) {
        while (v >= 0x80) {
            m_out.push_back(char((v & 0x7F) | 0x80));
            v >>= 7;
        }
        m_out.push_back(char(v));
    }
    std::string m_out;
};

// Reads protobuf fields one at a time; every read is bounds-checked.
class ProtoReader {
public:
    explicit ProtoReader(std::string_view s)
        : m_p(reinterpret_cast<const uint8_t*>(s.data())), m_end(m_p + s.size()) {}
    bool atEnd() const { return m_p >= m_end; }
    bool varint(uint64_t& v) {
        v = 0;
        for (int shift = 0; shift < 64 && m_p < m_end; shift += 7) {
            uint8_t b = *m_p++;
            v |= uint64_t(b & 0x7F) << shift;
            if (!(b & 0x80)) return true;
        }
        return false;
    }
    // Reads a tag, then hands length-delimited payloads to `len` and skips other values.
    bool next(uint32_t& field, uint32_t& wire, uint64_t& value, std::string_view& len) {
        uint64_t t;
        if (!varint(t)) return false;
        field = uint32_t(t >> 3);
        wire = uint32_t(t & 7);
        switch (wire) {
        case kVarint:
            return varint(value);
        case kFixed64:
            return advance(8);
        case kFixed32:
            return advance(4);
        case kLen: {
            uint64_t n;
            if (!varint(n) || n > uint64_t(m_end - m_p)) return false;
            len = std::string_view(reinterpret_cast<const char*>(m_p), size_t(n));
            m_p += n;
            return true;
        }
        default:
            return false;
        }
    }

private:
    bool advance(size_t n) {
        if (size_t(m_end - m_p) < n) return false;
        m_p += n;
        return true;
    }
    const uint8_t* m_p;
    const uint8_t* m_end;
};

// Piece types of a serialized ModelProto, in id order (type defaults to NORMAL).
bool readPieceTypes(std::string_view proto, std::vector<int32_t>& types) {
    ProtoReader r(proto);
    uint32_t field, wire;
    uint64_t value;
    std::string_view len;
    while (!r.atEnd()) {
        if (!r.next(field, wire, value, len)) return false;
        if (field != 1 || wire != kLen) continue;
        ProtoReader piece(len);
        int32_t type = int32_t(TokenType::Normal);
        while (!piece.atEnd()) {
            std::string_view inner;
            if (!piece.next(field, wire, value, inner)) return false;
            if (field == 3 && wire == kVarint) type = int32_t(value);
        }
        types.push_back(type);
    }
    return true;
}

// "<0x41>" -> 0x41, or -1.
int parseByteToken(const std::string& name) {
    unsigned v = 0;
    if (name.size() != 6 || std::sscanf(name.c_str(), "<0x%2X>", &v) != 1) return -1;
    return int(v);
}

std::string replaceSpaceMarks(const std::string& piece) {
    std::string out;
    out.reserve(piece.size());
    for (size_t i = 0; i < piece.size();) {
        if (piece.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
            out.push_back(' ');
            i += kSpaceMark.size();
        } else {
            out.push_back(piece[i++]);
        }
    }
    return out;
}

} // namespace

SpmTokenizer::SpmTokenizer() : m_sp(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}
SpmTokenizer::~SpmTokenizer() = default;

Status SpmTokenizer::load(const std::string& serialized, const std::string& origin) {
    const auto st = m_sp->LoadFromSerializedProto(serialized);
    if (!st.ok())
        return Status(StatusCode::CorruptFile,
                      origin + ": sentencepiece rejects the model: " + std::string(st.message()));
    std::vector<int32_t> types;
    if (!readPieceTypes(serialized, types) || int64_t(types.size()) != m_sp->GetPieceSize())
        return Status(StatusCode::CorruptFile,
                      origin + ": cannot read the piece types of the sentencepiece ModelProto");
    const size_t n = types.size();
    m_types = std::move(types);
    m_names.resize(n);
    m_bytes.resize(n);
    m_controlIds.clear();
    std::fill(std::begin(m_controlFirstByte), std::end(m_controlFirstByte), false);
    for (size_t id = 0; id < n; ++id) {
        m_names[id] = m_sp->IdToPiece(int(id));
        const std::string& name = m_names[id];
        switch (TokenType(m_types[id])) {
        case TokenType::Control:
            if (!name.empty()) {
                m_controlIds.push_back(int32_t(id));
                m_controlFirstByte[static_cast<unsigned char>(name[0])] = true;
            }
            break;
        case TokenType::Unknown:
            m_bytes[id] = kUnkSurface;
            break;
        case TokenType::Unused:
            break; // [PAD<id>] fillers and reserved slots stand for no text
        case TokenType::Byte: {
            const int b = parseByteToken(name);
            if (b < 0)
                return Status(StatusCode::CorruptFile, origin + ": byte piece " +
                                                           std::to_string(id) + " is named '" +
                                                           name + "', expected <0xHH>");
            m_bytes[id] = std::string(1, char(b));
            break;
        }
        default:
            m_bytes[id] = replaceSpaceMarks(name);
        }
    }
    std::sort(m_controlIds.begin(), m_controlIds.end(), [&](int32_t a, int32_t b) {
        return m_names[size_t(a)].size() > m_names[size_t(b)].size();
    });
    return Status::ok();
}

Result<std::unique_ptr<SpmTokenizer>> SpmTokenizer::fromModelFile(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return Status(StatusCode::NotFound, path + ": cannot open the SentencePiece model");
    std::string bytes;
    char buf[1 << 16];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, f)) > 0)
        bytes.append(buf, got);
    const bool readError = std::ferror(f) != 0;
    std::fclose(f);
    if (readError) return Status(StatusCode::IoError, path + ": read error");
    std::unique_ptr<SpmTokenizer> tok(new SpmTokenizer());
    MOE_TRY(tok->load(bytes, path));
    tok->m_bos = tok->m_sp->bos_id();
    tok->m_eos = tok->m_sp->eos_id();
    return tok;
}

Result<std::unique_ptr<SpmTokenizer>> SpmTokenizer::fromGguf(const gguf::GgufFile& file) {
    const std::string& path = file.path();
    const std::string model = file.getString("tokenizer.ggml.model", "");
    if (model != kGgufBpeModel && model != kGgufUnigramModel)
        return Status(StatusCode::Unsupported, path + ": tokenizer.ggml.model is '" + model +
                                                   "', expected 'llama' or 't5' (SentencePiece)");
    const bool unigram = model == kGgufUnigramModel;

    const gguf::MetaValue* tokens = file.find("tokenizer.ggml.tokens");
    if (!tokens || tokens->type != gguf::ValueType::Array ||
        tokens->elemType != gguf::ValueType::String || tokens->items.empty())
        return Status(StatusCode::CorruptFile,
                      path +
                          ": tokenizer.ggml.tokens is missing, empty or not an array of strings");
    const size_t n = tokens->items.size();
    auto sameLengthArray = [&](const char* key) -> Result<const gguf::MetaValue*> {
        const gguf::MetaValue* v = file.find(key);
        if (!v) return static_cast<const gguf::MetaValue*>(nullptr);
        if (v->type != gguf::ValueType::Array || v->items.size() != n)
            return Status(StatusCode::CorruptFile, path + ": " + key + " is not an array of " +
                                                       std::to_string(n) +
                                                       " values (one per token)");
        return v;
    };
    MOE_ASSIGN_OR_RETURN(const gguf::MetaValue* scores, sameLengthArray("tokenizer.ggml.scores"));
    MOE_ASSIGN_OR_RETURN(const gguf::MetaValue* typeArr,
                         sameLengthArray("tokenizer.ggml.token_type"));

    std::vector<float> score(n, 0.0f);
    std::vector<int32_t> type(n, int32_t(TokenType::Normal));
    for (size_t id = 0; id < n; ++id) {
        if (scores) {
            auto s = scores->items[id].asNumber();
            if (!s)
                return Status(StatusCode::CorruptFile, path + ": tokenizer.ggml.scores[" +
                                                           std::to_string(id) +
                                                           "] is not a number");
            score[id] = float(*s);
        }
        if (typeArr) {
            auto t = typeArr->items[id].asInt();
            if (!t || *t < int64_t(TokenType::Normal) || *t > int64_t(TokenType::Byte))
                return Status(StatusCode::CorruptFile,
                              path + ": tokenizer.ggml.token_type[" + std::to_string(id) + "] is " +
                                  typeArr->items[id].display() + ", expected 1..6");
            type[id] = int32_t(*t);
        }
        if (tokens->items[id].s.empty())
            return Status(StatusCode::CorruptFile,
                          path + ": tokenizer.ggml.tokens[" + std::to_string(id) + "] is empty");
    }

    // Special ids: llama.cpp's defaults per vocabulary type, then the file's keys. A u32 of
    // 0xFFFFFFFF (or any negative value) means "none".
    int32_t unk = unigram ? 2 : 0, bos = unigram ? -1 : 1, eos = unigram ? 1 : 2,
            pad = unigram ? 0 : -1;
    int32_t eot = -1;
    auto idKey = [&](const char* key, int32_t& out) -> Status {
        if (!file.find(key)) return Status::ok();
        auto v = file.getInt(key);
        if (!v.isOk()) return v.status();
        if (*v < 0 || *v == 0xFFFFFFFFll) {
            out = -1;
            return Status::ok();
        }
        if (*v >= int64_t(n))
            return Status(StatusCode::CorruptFile, path + ": " + key + " = " + std::to_string(*v) +
                                                       " is outside the vocabulary (" +
                                                       std::to_string(n) + ")");
        out = int32_t(*v);
        return Status::ok();
    };
    const bool unkKey = file.find("tokenizer.ggml.unknown_token_id") != nullptr;
    MOE_TRY(idKey("tokenizer.ggml.unknown_token_id", unk));
    MOE_TRY(idKey("tokenizer.ggml.bos_token_id", bos));
    MOE_TRY(idKey("tokenizer.ggml.eos_token_id", eos));
    MOE_TRY(idKey("tokenizer.ggml.padding_token_id", pad));
    MOE_TRY(idKey("tokenizer.ggml.eot_token_id", eot));

    // sentencepiece needs exactly one UNKNOWN piece.
    int32_t unkPiece = -1;
    bool hasBytes = false;
    for (size_t id = 0; id < n; ++id) {
        if (type[id] == int32_t(TokenType::Byte)) hasBytes = true;
        if (type[id] != int32_t(TokenType::Unknown)) continue;
        if (unkPiece >= 0)
            return Status(StatusCode::CorruptFile,
                          path + ": tokens " + std::to_string(unkPiece) + " and " +
                              std::to_string(id) +
                              " are both of type UNKNOWN (2); SentencePiece allows one");
        unkPiece = int32_t(id);
    }
    if (unkPiece < 0) {
        if (!unkKey || unk < 0)
            return Status(
                StatusCode::CorruptFile,
                path + ": no token of type UNKNOWN (2) in tokenizer.ggml.token_type and no "
                       "tokenizer.ggml.unknown_token_id; a SentencePiece vocabulary needs one");
        type[size_t(unk)] = int32_t(TokenType::Unknown);
        unkPiece = unk;
    }
    unk = unkPiece;

    auto flag = [&](const char* key, bool fallback) {
        const gguf::MetaValue* v = file.find(key);
        return v ? v->u != 0 : fallback;
    };
    const bool addBos = flag("tokenizer.ggml.add_bos_token", !unigram);
    const bool addEos = flag("tokenizer.ggml.add_eos_token", unigram);
    const bool addSpacePrefix = flag("tokenizer.ggml.add_space_prefix", true);
    const bool removeExtraSpaces = flag("tokenizer.ggml.remove_extra_whitespaces", false);
    std::string charsmap;
    if (const gguf::MetaValue* cm = file.find("tokenizer.ggml.precompiled_charsmap")) {
        if (cm->type != gguf::ValueType::Array ||
            (cm->elemType != gguf::ValueType::UInt8 && cm->elemType != gguf::ValueType::Int8))
            return Status(StatusCode::CorruptFile,
                          path + ": tokenizer.ggml.precompiled_charsmap is not an array of bytes");
        charsmap.reserve(cm->items.size());
        for (const gguf::MetaValue& b : cm->items)
            charsmap.push_back(char(cm->elemType == gguf::ValueType::UInt8 ? b.u : uint64_t(b.i)));
    }

    ProtoWriter proto;
    for (size_t id = 0; id < n; ++id) {
        ProtoWriter piece;
        piece.bytesField(1, tokens->items[id].s);
        piece.floatField(2, score[id]);
        piece.varintField(3, type[id]);
        proto.bytesField(1, piece.bytes());
    }
    ProtoWriter trainer;
    trainer.varintField(3, unigram ? kModelUnigram : kModelBpe);
    trainer.varintField(4, int64_t(n));
    trainer.varintField(
        35, hasBytes ? 1 : 0); // byte_fallback: sentencepiece rejects BYTE pieces without it
    trainer.varintField(40, unk);
    trainer.varintField(41, bos);
    trainer.varintField(42, eos);
    trainer.varintField(43, pad);
    trainer.bytesField(45, tokens->items[size_t(unk)].s);
    if (bos >= 0) trainer.bytesField(46, tokens->items[size_t(bos)].s);
    if (eos >= 0) trainer.bytesField(47, tokens->items[size_t(eos)].s);
    if (pad >= 0) trainer.bytesField(48, tokens->items[size_t(pad)].s);
    proto.bytesField(2, trainer.bytes());
    ProtoWriter normalizer;
    normalizer.bytesField(1, charsmap.empty() ? "identity" : "precompiled");
    if (!charsmap.empty()) normalizer.bytesField(2, charsmap);
    normalizer.varintField(3, addSpacePrefix ? 1 : 0);
    normalizer.varintField(4, removeExtraSpaces ? 1 : 0);
    normalizer.varintField(5, 1); // escape_whitespaces: " " -> "▁"
    proto.bytesField(3, normalizer.bytes());

    std::unique_ptr<SpmTokenizer> tok(new SpmTokenizer());
    MOE_TRY(tok->load(proto.bytes(), path + " (tokenizer.ggml.*)"));
    tok->m_bos = bos;
    tok->m_eos = eos;
    tok->m_eot = eot;
    tok->m_addBos = addBos;
    tok->m_addEos = addEos;
    return tok;
}

void SpmTokenizer::encodeFragment(std::string_view text, std::vector<int32_t>& out) const {
    if (text.empty()) return;
    std::vector<int> ids;
    // Encode fails only on a processor without a model, which load() rules out.
    if (!m_sp->Encode(text, &ids).ok()) return;
    out.insert(out.end(), ids.begin(), ids.end());
}

std::vector<int32_t> SpmTokenizer::encode(std::string_view text, bool addSpecial) const {
    std::vector<int32_t> ids;
    if (addSpecial && m_addBos && m_bos >= 0) ids.push_back(m_bos);
    size_t start = 0, i = 0;
    while (i < text.size()) {
        int32_t hit = -1;
        if (m_controlFirstByte[static_cast<unsigned char>(text[i])]) {
            for (int32_t id : m_controlIds) {
                const std::string& name = m_names[size_t(id)];
                if (text.compare(i, name.size(), name) == 0) {
                    hit = id;
                    break;
                }
            }
        }
        if (hit < 0) {
            ++i;
            continue;
        }
        encodeFragment(text.substr(start, i - start), ids);
        ids.push_back(hit);
        i += m_names[size_t(hit)].size();
        start = i;
    }
    encodeFragment(text.substr(start), ids);
    if (addSpecial && m_addEos && m_eos >= 0) ids.push_back(m_eos);
    return ids;
}

std::string SpmTokenizer::tokenBytes(int32_t id) const {
    if (id < 0 || size_t(id) >= m_bytes.size()) return {};
    return m_bytes[size_t(id)];
}

std::string SpmTokenizer::tokenName(int32_t id) const {
    if (id < 0 || size_t(id) >= m_names.size()) return "<invalid " + std::to_string(id) + ">";
    return m_names[size_t(id)];
}

bool SpmTokenizer::isControl(int32_t id) const {
    return id >= 0 && size_t(id) < m_types.size() &&
           m_types[size_t(id)] == int32_t(TokenType::Control);
}

} // namespace moe
