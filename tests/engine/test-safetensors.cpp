// Safetensors: writer/reader round trip of every dtype, sharded folders, malformed files (each
// must fail with a Status naming the file and the problem), and F8_E4M3 decoding. Goldens: the
// byte layout of model-formats.md §8.1 (built by hand below, independent of our writer); the
// e4m3 values from the OCP 8-bit floating point spec table (0x38 = 1.0, 0x7e = 448, 0x01 = 2^-9,
// 0xb0 = -0.5, 0x7f = NaN), the same values torch.float8_e4m3fn gives.
#include "formats/safetensors/safetensors-folder.h"
#include "formats/safetensors/safetensors-writer.h"

#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <cstring>
#include <fstream>

using namespace moe;
using namespace moe::st;

namespace {

// A file from a raw header string and a data buffer of dataBytes bytes (value = index).
std::string writeRaw(const std::string& path, const std::string& header, size_t dataBytes, int64_t lengthOverride = -1) {
    std::ofstream out(path, std::ios::binary);
    const uint64_t n = lengthOverride >= 0 ? uint64_t(lengthOverride) : header.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << header;
    for (size_t i = 0; i < dataBytes; ++i) out.put(char(i & 0xff));
    return path;
}

} // namespace

class TestSafetensors : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::string path(const std::string& name) const { return m_dir.path().toStdString() + "/" + name; }

private slots:
    void roundTripEveryDtype_data() {
        QTest::addColumn<QString>("dtype");
        for (const char* d : {"BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "I64", "U64",
                              "F64", "C64", "F8_E4M3", "F8_E5M2", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "F8_E8M0",
                              "F6_E2M3", "F6_E3M2", "F4"})
            QTest::newRow(d) << d;
    }
    void roundTripEveryDtype() {
        QFETCH(QString, dtype);
        Dtype d;
        QVERIFY(parseDtype(dtype.toStdString(), d));
        QCOMPARE(std::string(dtypeName(d)), dtype.toStdString());
        const std::vector<int64_t> shape = {3, 8}; // 24 elements: whole bytes for 4- and 6-bit types
        SafetensorsWriter w;
        QVERIFY(w.addTensor("a", d, shape, [](std::span<uint8_t> out) {
            for (size_t i = 0; i < out.size(); ++i) out[i] = uint8_t(i * 7 + 1);
            return Status::ok();
        }).isOk());
        QVERIFY(w.addTensor("b.scalar", Dtype::F32, {}, [](std::span<uint8_t> out) {
            const float v = 2.5f;
            std::memcpy(out.data(), &v, 4);
            return Status::ok();
        }).isOk());
        QVERIFY(w.addTensor("c.empty", Dtype::F16, {0, 4}, [](std::span<uint8_t>) { return Status::ok(); }).isOk());
        w.setMetadata("format", "pt");
        const std::string p = path("rt-" + dtype.toStdString() + ".safetensors");
        QVERIFY(w.write(p).isOk());
        auto f = SafetensorsFile::open(p);
        QVERIFY2(f.isOk(), f.status().message().c_str());
        QCOMPARE(f->headerBytes() % 8, uint64_t(0));
        QCOMPARE(f->metadata().at("format"), std::string("pt"));
        const Tensor* a = f->tensor("a");
        QVERIFY(a);
        QCOMPARE(a->dtype, d);
        QCOMPARE(a->shape, shape);
        QCOMPARE(a->bytes(), uint64_t(24 * dtypeBits(d) / 8));
        for (uint64_t i = 0; i < a->bytes(); ++i) QCOMPARE(a->data[i], uint8_t(i * 7 + 1));
        const Tensor* s = f->tensor("b.scalar");
        QVERIFY(s && s->shape.empty() && s->elements == 1);
        std::vector<float> v;
        QVERIFY(toF32(*s, p, v).isOk());
        QCOMPARE(v[0], 2.5f);
        QCOMPARE(f->tensor("c.empty")->bytes(), uint64_t(0));
    }

    // Built by hand per §8.1: header, padding spaces, tensors in offset order.
    void readsHandMadeFile() {
        const std::string header = R"({"w":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},)"
                                   R"("x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}   )";
        const std::string p = path("hand.safetensors");
        {
            std::ofstream out(p, std::ios::binary);
            const uint64_t n = header.size();
            out.write(reinterpret_cast<const char*>(&n), 8);
            out << header;
            const float x = -3.0f;
            out.write(reinterpret_cast<const char*>(&x), 4);
            const uint16_t w[2] = {0x3f80, 0xc000}; // bf16 1.0, -2.0
            out.write(reinterpret_cast<const char*>(w), 4);
        }
        auto f = SafetensorsFile::open(p);
        QVERIFY2(f.isOk(), f.status().message().c_str());
        std::vector<float> v;
        QVERIFY(toF32(*f->tensor("w"), p, v).isOk());
        QCOMPARE(v, (std::vector<float>{1.0f, -2.0f}));
        QVERIFY(toF32(*f->tensor("x"), p, v).isOk());
        QCOMPARE(v[0], -3.0f);
    }

    void malformed_data() {
        QTest::addColumn<QString>("header");
        QTest::addColumn<int>("dataBytes");
        QTest::addColumn<qlonglong>("lengthOverride");
        QTest::addColumn<QString>("expected");
        const QString ok = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
        QTest::newRow("length past end") << "{" + ok + "}" << 8 << qlonglong(1000) << "runs past the end";
        QTest::newRow("length absurd") << "{" + ok + "}" << 8 << qlonglong(1) << "does not start with";
        QTest::newRow("length over limit") << "{}" << 0 << qlonglong(200'000'000) << "exceeds the limit";
        QTest::newRow("bad json") << R"({"t":{"dtype":"F32",)" << 0 << qlonglong(-1) << "not valid JSON";
        QTest::newRow("not an object") << "[1, 2]" << 0 << qlonglong(-1) << "does not start with '{'";
        QTest::newRow("offsets past end") << "{" + ok + "}" << 4 << qlonglong(-1) << "end past the data buffer";
        QTest::newRow("overlap")
            << R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})"
            << 8 << qlonglong(-1) << "overlaps tensor 'a'";
        QTest::newRow("hole")
            << R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})" << 8 << qlonglong(-1) << "belong to no tensor";
        QTest::newRow("trailing bytes") << "{" + ok + "}" << 12 << qlonglong(-1) << "trailing bytes";
        QTest::newRow("size mismatch")
            << R"({"t":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}})" << 8 << qlonglong(-1) << "needs 4";
        QTest::newRow("unknown dtype")
            << R"({"t":{"dtype":"F12","shape":[2],"data_offsets":[0,8]}})" << 8 << qlonglong(-1) << "unknown dtype 'F12'";
        QTest::newRow("absurd shape")
            << R"({"t":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})" << 8
            << qlonglong(-1) << "more elements than any file";
        QTest::newRow("negative dim")
            << R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})" << 8 << qlonglong(-1) << "not a non-negative";
        QTest::newRow("duplicate") << "{" + ok + "," + ok + "}" << 8 << qlonglong(-1) << "appears twice";
        QTest::newRow("sub-byte") << R"({"t":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}})" << 1 << qlonglong(-1)
                                  << "not a whole number of bytes";
        QTest::newRow("metadata value")
            << R"({"__metadata__":{"format":1}})" << 0 << qlonglong(-1) << "__metadata__['format']";
        QTest::newRow("missing offsets") << R"({"t":{"dtype":"F32","shape":[2]}})" << 8 << qlonglong(-1) << "'data_offsets'";
    }
    void malformed() {
        QFETCH(QString, header);
        QFETCH(int, dataBytes);
        QFETCH(qlonglong, lengthOverride);
        QFETCH(QString, expected);
        const std::string p = writeRaw(path("bad.safetensors"), header.toStdString(), size_t(dataBytes), lengthOverride);
        auto f = SafetensorsFile::open(p);
        QVERIFY(!f.isOk());
        QCOMPARE(f.status().code(), StatusCode::CorruptFile);
        const std::string& m = f.status().message();
        QVERIFY2(m.find(p) != std::string::npos, m.c_str());
        QVERIFY2(m.find(expected.toStdString()) != std::string::npos, m.c_str());
    }

    void truncatedFile() {
        const std::string p = path("short.safetensors");
        std::ofstream(p, std::ios::binary) << "abc";
        auto f = SafetensorsFile::open(p);
        QVERIFY(!f.isOk());
        QVERIFY(f.status().message().find("too short") != std::string::npos);
    }

    void shardedFolder() {
        const std::string dir = path("sharded");
        QVERIFY(QDir().mkpath(QString::fromStdString(dir)));
        std::vector<std::pair<std::string, std::string>> map;
        uint64_t total = 0;
        for (int s = 0; s < 2; ++s) {
            SafetensorsWriter w;
            for (int i = 0; i < 3; ++i) {
                const std::string name = "layer." + std::to_string(s * 3 + i) + ".weight";
                QVERIFY(w.addTensor(name, Dtype::F32, {2}, [s, i](std::span<uint8_t> out) {
                    const float v[2] = {float(s * 3 + i), 0.5f};
                    std::memcpy(out.data(), v, 8);
                    return Status::ok();
                }).isOk());
                map.emplace_back(name, "model-0000" + std::to_string(s + 1) + "-of-000002.safetensors");
            }
            QVERIFY(w.write(dir + "/" + map.back().second).isOk());
            total += w.dataBytes();
        }
        QVERIFY(writeSafetensorsIndex(dir + "/model.safetensors.index.json", map, total).isOk());
        auto folder = SafetensorsFolder::open(dir);
        QVERIFY2(folder.isOk(), folder.status().message().c_str());
        QVERIFY(folder->sharded());
        QCOMPARE(folder->files().size(), size_t(2));
        QCOMPARE(folder->names().size(), size_t(6));
        for (int t = 0; t < 6; ++t) {
            auto loc = folder->find("layer." + std::to_string(t) + ".weight");
            QVERIFY(loc.tensor);
            float v = 0;
            std::memcpy(&v, loc.tensor->data, 4);
            QCOMPARE(v, float(t));
            QVERIFY(loc.file->path().find(t < 3 ? "00001" : "00002") != std::string::npos);
        }
        // An index that puts a tensor in the wrong shard names both.
        map[0].second = "model-00002-of-000002.safetensors";
        QVERIFY(writeSafetensorsIndex(dir + "/model.safetensors.index.json", map, total).isOk());
        auto bad = SafetensorsFolder::open(dir);
        QVERIFY(!bad.isOk());
        QVERIFY2(bad.status().message().find("layer.0.weight") != std::string::npos, bad.status().message().c_str());
    }

    void f8e4m3Values() {
        QCOMPARE(f8e4m3ToF32(0x38), 1.0f);
        QCOMPARE(f8e4m3ToF32(0x7e), 448.0f);
        QCOMPARE(f8e4m3ToF32(0xfe), -448.0f);
        QCOMPARE(f8e4m3ToF32(0x01), std::ldexp(1.0f, -9));
        QCOMPARE(f8e4m3ToF32(0x08), std::ldexp(1.0f, -6));
        QCOMPARE(f8e4m3ToF32(0xb0), -0.5f);
        QCOMPARE(f8e4m3ToF32(0x3c), 1.5f);
        QCOMPARE(f8e4m3ToF32(0x00), 0.0f);
        QVERIFY(std::isnan(f8e4m3ToF32(0x7f)));
        QVERIFY(std::isnan(f8e4m3ToF32(0xff)));
    }

    // A [3, 130] FP8 weight with [1, 2] block scales (block 128: columns 0..127 and 128..129).
    void f8BlockDequant() {
        SafetensorsWriter w;
        QVERIFY(w.addTensor("x.weight", Dtype::F8E4M3, {3, 130}, [](std::span<uint8_t> out) {
            for (size_t i = 0; i < out.size(); ++i) out[i] = (i % 2) ? 0x38 : 0xb0; // 1.0, -0.5
            return Status::ok();
        }).isOk());
        QVERIFY(w.addTensor("x.weight_scale_inv", Dtype::F32, {1, 2}, [](std::span<uint8_t> out) {
            const float s[2] = {2.0f, 0.25f};
            std::memcpy(out.data(), s, 8);
            return Status::ok();
        }).isOk());
        const std::string p = path("fp8.safetensors");
        QVERIFY(w.write(p).isOk());
        auto f = SafetensorsFile::open(p);
        QVERIFY(f.isOk());
        std::vector<float> v;
        Status st = dequantizeFp8Blocks(*f->tensor("x.weight"), *f->tensor("x.weight_scale_inv"), p, v);
        QVERIFY2(st.isOk(), st.message().c_str());
        QCOMPARE(v.size(), size_t(390));
        for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 130; ++c) {
                const size_t i = size_t(r * 130 + c);
                const float base = (i % 2) ? 1.0f : -0.5f;
                QCOMPARE(v[i], base * (c < 128 ? 2.0f : 0.25f));
            }
        // Wrong scale shape is named.
        st = dequantizeFp8Blocks(*f->tensor("x.weight"), *f->tensor("x.weight"), p, v);
        QVERIFY(!st.isOk());
        QVERIFY(st.message().find("expected [1, 2]") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestSafetensors)
#include "test-safetensors.moc"
