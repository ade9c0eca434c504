// GGUF reader and writer: a round trip of every value type and tensor data, and malformed files
// (truncated at every length, wrong magic, unsupported versions, absurd counts, offsets past the
// end, bad shapes and types) that must each give a CorruptFile/Unsupported Status naming the
// file and the problem — never a crash or a huge allocation.
#include "formats/gguf/gguf-reader.h"
#include "formats/gguf/gguf-writer.h"
#include "gguf-bytes.h"

#include <QTemporaryDir>
#include <QTest>

#include <fstream>

using namespace moe;
using namespace moe::gguf;

class TestGguf : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::string path(const char* name) const { return (m_dir.path() + "/" + name).toStdString(); }
    std::string writeBytes(const char* name, const std::vector<uint8_t>& bytes) const {
        std::string p = path(name);
        std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
        return p;
    }
    // A small valid file: 2 KVs, one F32 tensor [4, 2].
    static GgufBytes validFile() {
        GgufBytes g;
        g.header(1, 2).kvStr("general.architecture", "llama").kvU32("llama.block_count", 2);
        g.tensorInfo("w", {4, 2}, 0, 0).align();
        for (int i = 0; i < 8; ++i) g.put<float>(float(i));
        return g;
    }

private slots:
    void roundTrip() {
        GgufWriter w;
        w.addString("general.architecture", "llama");
        w.addUInt32("a.u32", 7);
        w.addInt32("a.i32", -5);
        w.addUInt64("a.u64", 1ull << 40);
        w.addFloat32("a.f32", 0.25f);
        w.addBool("a.bool", true);
        w.addStringArray("a.strs", {"x", "", "héllo"});
        w.addInt32Array("a.ints", {1, -2, 3});
        w.addFloat32Array("a.floats", {0.5f, 1.5f});
        std::vector<float> data(3 * 5);
        for (size_t i = 0; i < data.size(); ++i) data[i] = float(i) * 0.5f;
        QVERIFY(w.addTensor("t.f32", {5, 3}, GgmlType::F32, [&](std::span<uint8_t> out) {
                     std::memcpy(out.data(), data.data(), out.size());
                     return Status::ok();
                 }).isOk());
        QVERIFY(w.addTensor("t.f16", {7}, GgmlType::F16, [](std::span<uint8_t> out) {
                     std::fill(out.begin(), out.end(), uint8_t(0x3c));
                     return Status::ok();
                 }).isOk());
        QVERIFY(!w.addTensor("bad", {33}, GgmlType::Q8_0, {}).isOk()); // not whole blocks
        const std::string p = path("rt.gguf");
        QVERIFY(w.write(p).isOk());

        auto f = GgufFile::open(p);
        QVERIFY2(f.isOk(), f.status().toString().c_str());
        QCOMPARE(f->version(), 3u);
        QCOMPARE(*f->getString("general.architecture"), std::string("llama"));
        QCOMPARE(*f->getInt("a.u32"), int64_t(7));
        QCOMPARE(*f->getInt("a.i32"), int64_t(-5));
        QCOMPARE(*f->getInt("a.u64"), int64_t(1) << 40);
        QCOMPARE(*f->getNumber("a.f32"), 0.25);
        QCOMPARE(f->find("a.bool")->u, uint64_t(1));
        QCOMPARE(f->find("a.strs")->items.size(), size_t(3));
        QCOMPARE(f->find("a.strs")->items[2].s, std::string("héllo"));
        QCOMPARE(f->find("a.ints")->items[1].i, int64_t(-2));
        QCOMPARE(f->find("a.floats")->items[1].f, 1.5);
        QVERIFY(!f->getInt("general.architecture").isOk()); // a string is not an integer
        QVERIFY(!f->getInt("missing").isOk());
        const TensorEntry* t = f->tensor("t.f32");
        QVERIFY(t);
        QCOMPARE(t->ne, (std::vector<uint64_t>{5, 3}));
        QCOMPARE(t->bytes, uint64_t(60));
        QVERIFY(std::memcmp(f->tensorData(*t), data.data(), 60) == 0);
        QCOMPARE(f->tensorData(*t) - f->tensorData(*f->tensor("t.f32")), 0);
        QCOMPARE((f->dataOffset() + f->tensor("t.f16")->offset) % 32, uint64_t(0));
        QCOMPARE(f->tensorData(*f->tensor("t.f16"))[13], uint8_t(0x3c));
    }

    void validFileParses() {
        auto f = GgufFile::open(writeBytes("valid.gguf", validFile().b));
        QVERIFY2(f.isOk(), f.status().toString().c_str());
        QCOMPARE(f->tensors().size(), size_t(1));
    }

    // Every strict prefix of a valid file is rejected cleanly.
    void truncatedAtEveryLength() {
        const std::vector<uint8_t> full = validFile().b;
        for (size_t n = 0; n < full.size(); ++n) {
            std::vector<uint8_t> cut(full.begin(), full.begin() + std::ptrdiff_t(n));
            auto f = GgufFile::open(writeBytes("cut.gguf", cut));
            QVERIFY2(!f.isOk(), ("prefix of " + std::to_string(n) + " bytes was accepted").c_str());
            QVERIFY(f.status().message().find("cut.gguf") != std::string::npos);
        }
    }

    void malformed_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        auto add = [](const char* name, const GgufBytes& g, const char* expected) {
            QTest::newRow(name) << QByteArray(reinterpret_cast<const char*>(g.b.data()), qsizetype(g.b.size()))
                                << QString(expected);
        };
        GgufBytes g;
        g.put<uint32_t>(0x464c457f).put<uint32_t>(3).zeros(16);
        add("wrong magic", g, "not a GGUF file");
        add("version 1", GgufBytes().header(0, 0, 1), "version 1");
        add("version 99", GgufBytes().header(0, 0, 99), "version 99");
        add("absurd tensor count", GgufBytes().header(1ull << 60, 0), "tensor_count");
        add("absurd kv count", GgufBytes().header(0, 1ull << 60), "metadata_kv_count");
        g = GgufBytes();
        g.header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(4).put<uint64_t>(1ull << 61);
        add("absurd array count", g, "cannot fit");
        g = GgufBytes();
        g.header(0, 1).str("k").put<uint32_t>(8).put<uint64_t>(1ull << 62);
        add("absurd string length", g, "exceeds the limit");
        g = GgufBytes();
        g.header(0, 1).put<uint64_t>(1ull << 40).zeros(16);
        add("absurd key length", g, "exceeds the limit");
        g = GgufBytes();
        g.header(0, 1).str("k").put<uint32_t>(77).put<uint32_t>(0);
        add("unknown value type", g, "unknown value type 77");
        g = GgufBytes();
        g.header(0, 1).str("k").put<uint32_t>(7).put<uint8_t>(2);
        add("bool not 0 or 1", g, "bool value 2");
        g = GgufBytes();
        g.header(0, 2).kvU32("k", 1).kvU32("k", 2);
        add("duplicate key", g, "appears twice");
        g = GgufBytes();
        g.header(0, 1).kvU32("general.alignment", 12);
        add("bad alignment", g, "general.alignment");
        g = GgufBytes();
        g.header(1, 0).tensorInfo("w", {4, 2}, 0, 1024).align().zeros(32);
        add("tensor offset past the end", g, "past the end of the file");
        g = GgufBytes();
        g.header(1, 0).tensorInfo("w", {1ull << 40, 1ull << 30}, 0, 0).align().zeros(32);
        add("absurd shape", g, "overflows");
        g = GgufBytes();
        g.header(1, 0).tensorInfo("w", {4, 2, 1, 1, 1}, 0, 0).align().zeros(32);
        add("five dims", g, "n_dims 5");
        g = GgufBytes();
        g.header(1, 0).tensorInfo("w", {4}, 200, 0).align().zeros(32);
        add("unknown tensor type", g, "unknown ggml type 200");
        g = GgufBytes();
        g.header(1, 0).tensorInfo("w", {33}, 8, 0).align().zeros(64);
        add("row not whole blocks", g, "block size");
        g = GgufBytes();
        g.header(1, 0).tensorInfo("w", {4}, 0, 3).align().zeros(64);
        add("unaligned offset", g, "not a multiple of the alignment");
        g = GgufBytes();
        g.header(2, 0).tensorInfo("w", {4}, 0, 0).tensorInfo("w", {4}, 0, 32).align().zeros(64);
        add("duplicate tensor", g, "appears twice");
    }

    void malformed() {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        std::vector<uint8_t> v(bytes.begin(), bytes.end());
        auto f = GgufFile::open(writeBytes("bad.gguf", v));
        QVERIFY(!f.isOk());
        const QString msg = QString::fromStdString(f.status().message());
        QVERIFY2(msg.contains("bad.gguf"), qPrintable(msg));
        QVERIFY2(msg.contains(expected), qPrintable(msg));
    }

    void missingFile() {
        auto f = GgufFile::open(path("nope.gguf"));
        QVERIFY(!f.isOk());
        QCOMPARE(f.status().code(), StatusCode::NotFound);
        QVERIFY(f.status().message().find("nope.gguf") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestGguf)
#include "test-gguf.moc"
