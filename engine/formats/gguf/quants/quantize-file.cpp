// quantizeModelFile (moe/quantize.h): GGUF in -> GGUF out with the weights of a quantization
// scheme (quant-schemes.h). Metadata is copied in order (general.file_type and
// general.quantization_version rewritten); each tensor is converted row by row (dequantize to f32,
// quantize to the target) inside the writer's producer callback, so memory holds one tensor of the
// output at a time and the input stays memory-mapped. Tensors whose type is kept are copied byte
// for byte; types the engine cannot dequantize are kept as they are.
#include "moe/quantize.h"

#include "formats/gguf/gguf-reader.h"
#include "formats/gguf/gguf-writer.h"
#include "formats/gguf/quants/quant-schemes.h"
#include "ops/quants/quants.h"

#include <cstring>
#include <map>
#include <memory>

namespace moe {

namespace {

std::vector<QuantizeTypeSummary> summarize(const std::map<std::string, QuantizeTypeSummary>& m) {
    std::vector<QuantizeTypeSummary> v;
    for (const auto& [name, s] : m) v.push_back(s);
    return v;
}

void count(std::map<std::string, QuantizeTypeSummary>& m, uint32_t type, uint64_t bytes) {
    QuantizeTypeSummary& s = m[gguf::typeName(type)];
    s.type = gguf::typeName(type);
    s.tensors += 1;
    s.bytes += bytes;
}

} // namespace

std::vector<std::string> quantizeTypeNames() { return quants::quantSchemeNames(); }

Result<QuantizeReport> quantizeModelFile(const std::string& inPath, const std::string& outPath,
                                         const std::string& type,
                                         const std::function<bool(int, int)>& progress) {
    const std::optional<quants::QuantScheme> scheme = quants::quantScheme(type);
    if (!scheme) {
        std::string names;
        for (const std::string& n : quants::quantSchemeNames()) names += (names.empty() ? "" : ", ") + n;
        return Status(StatusCode::InvalidArgument, "quantize: unknown type '" + type + "' (" + names + ")");
    }
    if (inPath == outPath)
        return Status(StatusCode::InvalidArgument, "quantize: " + outPath + " is also the input file");
    // Shared so the producers (which the writer keeps) outlive this frame safely.
    MOE_ASSIGN_OR_RETURN(gguf::GgufFile opened, gguf::GgufFile::open(inPath));
    auto in = std::make_shared<const gguf::GgufFile>(std::move(opened));

    gguf::GgufWriter w;
    w.setAlignment(in->alignment());
    for (const gguf::MetaEntry& e : in->metadata())
        if (e.key != "general.file_type" && e.key != "general.quantization_version") w.addValue(e.key, e.value);
    w.addUInt32("general.file_type", scheme->fileType);

    QuantizeReport report;
    std::map<std::string, QuantizeTypeSummary> before, after;
    bool anyQuantized = false;
    const int total = int(in->tensors().size());
    auto done = std::make_shared<int>(0);
    for (const gguf::TensorEntry& t : in->tensors()) {
        uint32_t wanted = 0;
        uint32_t outType = quants::schemeTensorType(*scheme, t.name, t.ne, &wanted);
        if (!quants::canDequantize(t.type)) outType = wanted = t.type; // e.g. I32 tables: kept verbatim
        if (outType != wanted)
            report.fallbacks.push_back(t.name + ": " + gguf::typeName(outType) + " for " + gguf::typeName(wanted) +
                                       " (row of " + std::to_string(t.ne[0]) + ")");
        const int64_t rowLen = int64_t(t.ne[0]);
        const uint64_t rows = t.elements / t.ne[0];
        const size_t inRow = quants::rowBytes(t.type, rowLen), outRow = quants::rowBytes(outType, rowLen);
        count(before, t.type, t.bytes);
        count(after, outType, rows * outRow);
        report.bytesBefore += t.bytes;
        report.bytesAfter += rows * outRow;
        anyQuantized = anyQuantized || (gguf::typeTraits(outType)->blockSize > 1);
        const uint32_t inType = t.type;
        const gguf::TensorEntry* entry = &t; // points into *in, which the producer keeps alive
        MOE_TRY(w.addTensor(t.name, t.ne, gguf::GgmlType(outType),
                            [=](std::span<uint8_t> out) -> Status {
                                const uint8_t* src = in->tensorData(*entry);
                                if (outType == inType) {
                                    std::memcpy(out.data(), src, out.size());
                                } else {
                                    std::vector<float> row(static_cast<size_t>(rowLen));
                                    for (uint64_t r = 0; r < rows; ++r) {
                                        Status st = quants::dequantizeRow(inType, src + r * inRow, row.data(), rowLen);
                                        if (st.isOk())
                                            st = quants::quantizeRow(outType, row.data(), out.data() + r * outRow, rowLen);
                                        if (!st.isOk())
                                            return Status(st.code(), in->path() + ": tensor '" + entry->name +
                                                                         "' row " + std::to_string(r) + ": " + st.message());
                                    }
                                }
                                ++*done;
                                if (progress && !progress(*done, total))
                                    return Status(StatusCode::Cancelled, "quantize: cancelled");
                                return Status::ok();
                            }));
    }
    if (anyQuantized) w.addUInt32("general.quantization_version", 2);
    MOE_TRY(w.write(outPath));
    report.before = summarize(before);
    report.after = summarize(after);
    return report;
}

} // namespace moe
