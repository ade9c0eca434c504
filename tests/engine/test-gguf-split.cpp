// Split GGUF models (formats/gguf/gguf-split.h): a seeded random Mixtral written as one file and
// split into 3 shards by gguf::writeSplit loads from any shard to the same spec, the same tensors
// (each naming its shard) and bit-identical logits; the shards carry the keys llama.cpp's
// gguf-split writes (split.no u16 0-based, split.count u16, split.tensors.count i32, metadata in
// the first shard only: tools/gguf-split/gguf-split.cpp, split_strategy::split_start). Broken sets
// (a missing shard, a shard of another count or position, a tensor in two shards, a wrong tensor
// total, a renamed shard) must each fail naming the file at fault. Golden for the logits: the
// unsplit file's forward (the split moves bytes only, so any difference is a loading error).
#include "formats/gguf/gguf-split.h"
#include "formats/gguf/gguf-writer.h"
#include "moe/model-factory.h"
#include "moe/model.h"
#include "moe/session.h"

#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <filesystem>
#include <map>
#include <set>

using namespace moe;
using gguf::MetaValue;
using gguf::ValueType;

namespace {

std::vector<float> logitsOf(const std::shared_ptr<const Model>& m,
                            const std::vector<int32_t>& tokens) {
    auto s = Session::create(m, SessionOptions{});
    if (!s.isOk()) return {};
    auto l = (*s)->evaluate(tokens);
    return l.isOk() ? *l : std::vector<float>{};
}

MetaValue intValue(ValueType type, int64_t x) {
    MetaValue v;
    v.type = type;
    v.u = uint64_t(x);
    v.i = x;
    return v;
}

// Copies the GGUF at `in` to `out` with some keys replaced and, optionally, one tensor of another
// file added (to plant a duplicate).
Status copyGguf(const std::string& in, const std::string& out,
                const std::map<std::string, MetaValue>& set,
                const gguf::GgufFile* extraFrom = nullptr, const std::string& extraTensor = {}) {
    auto src = gguf::GgufFile::open(in);
    if (!src.isOk()) return src.status();
    gguf::GgufWriter w;
    for (const gguf::MetaEntry& e : src->metadata()) {
        auto it = set.find(e.key);
        w.addValue(e.key, it == set.end() ? e.value : it->second);
    }
    auto addFrom = [&w](const gguf::GgufFile& f, const gguf::TensorEntry& t) {
        return w.addTensor(t.name, t.ne, gguf::GgmlType(t.type), [&f, &t](std::span<uint8_t> o) {
            std::memcpy(o.data(), f.tensorData(t), o.size());
            return Status::ok();
        });
    };
    for (const gguf::TensorEntry& t : src->tensors())
        MOE_TRY(addFrom(*src, t));
    if (extraFrom) MOE_TRY(addFrom(*extraFrom, *extraFrom->tensor(extraTensor)));
    return w.write(out);
}

} // namespace

class TestGgufSplit : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::string m_whole;  // the unsplit model
    std::string m_prefix; // its 3 shards: m_prefix-0000i-of-00003.gguf

    std::string shard(int i, const std::string& prefix = {}) const {
        return gguf::splitName(prefix.empty() ? m_prefix : prefix, i, 3);
    }
    // A fresh copy of the 3 shards under a new prefix, to break one of them.
    std::string copySet(const std::string& name) const {
        const std::string prefix = m_dir.path().toStdString() + "/" + name;
        for (int i = 1; i <= 3; ++i)
            std::filesystem::copy_file(shard(i), shard(i, prefix));
        return prefix;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_whole = m_dir.path().toStdString() + "/whole.gguf";
        m_prefix = m_dir.path().toStdString() + "/split";
        RandomModelOptions o;
        o.seed = 11;
        o.type = "q8_0"; // quantized blocks travel as stored bytes
        Status st = writeRandomModel(o, m_whole);
        QVERIFY2(st.isOk(), st.message().c_str());
        auto whole = gguf::GgufFile::open(m_whole);
        QVERIFY2(whole.isOk(), whole.status().message().c_str());
        st = gguf::writeSplit(*whole, m_prefix, 3);
        QVERIFY2(st.isOk(), st.message().c_str());
    }

    void names_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("prefix"); // empty: not a shard name
        QTest::addColumn<int>("no");
        QTest::addColumn<int>("count");
        QTest::newRow("first") << "/m/model-00001-of-00003.gguf"
                               << "/m/model" << 1 << 3;
        QTest::newRow("last") << "q4-00005-of-00005.gguf"
                              << "q4" << 5 << 5;
        QTest::newRow("dashes in prefix") << "a-b-00002-of-00010.gguf"
                                          << "a-b" << 2 << 10;
        QTest::newRow("plain file") << "/m/model.gguf"
                                    << "" << 0 << 0;
        QTest::newRow("no beyond count") << "m-00004-of-00003.gguf"
                                         << "" << 0 << 0;
        QTest::newRow("shard zero") << "m-00000-of-00003.gguf"
                                    << "" << 0 << 0;
        QTest::newRow("four digits") << "m-0001-of-0003.gguf"
                                     << "" << 0 << 0;
        QTest::newRow("no prefix") << "-00001-of-00003.gguf"
                                   << "" << 0 << 0;
        QTest::newRow("other extension") << "m-00001-of-00003.bin"
                                         << "" << 0 << 0;
    }
    void names() {
        QFETCH(QString, path);
        QFETCH(QString, prefix);
        QFETCH(int, no);
        QFETCH(int, count);
        const auto parsed = gguf::parseSplitName(path.toStdString());
        QCOMPARE(parsed.has_value(), !prefix.isEmpty());
        if (!parsed) return;
        QCOMPARE(QString::fromStdString(parsed->prefix), prefix);
        QCOMPARE(parsed->no, no);
        QCOMPARE(parsed->count, count);
        QCOMPARE(QString::fromStdString(gguf::splitName(parsed->prefix, no, count)), path);
    }

    // The keys and tensor division gguf-split writes.
    void shardsLookLikeGgufSplit() {
        auto whole = gguf::GgufFile::open(m_whole);
        QVERIFY(whole.isOk());
        std::set<std::string> seen;
        for (int i = 1; i <= 3; ++i) {
            auto f = gguf::GgufFile::open(shard(i));
            QVERIFY2(f.isOk(), f.status().message().c_str());
            const MetaValue* no = f->find("split.no");
            const MetaValue* count = f->find("split.count");
            const MetaValue* total = f->find("split.tensors.count");
            QVERIFY(no && count && total);
            QCOMPARE(no->type, ValueType::UInt16);
            QCOMPARE(count->type, ValueType::UInt16);
            QCOMPARE(total->type, ValueType::Int32);
            QCOMPARE(*no->asInt(), int64_t(i - 1));
            QCOMPARE(*count->asInt(), int64_t(3));
            QCOMPARE(uint64_t(*total->asInt()), uint64_t(whole->tensors().size()));
            QCOMPARE(f->find("general.architecture") != nullptr,
                     i == 1); // model metadata: first shard only
            QVERIFY(!f->tensors().empty());
            for (const gguf::TensorEntry& t : f->tensors()) {
                QVERIFY(seen.insert(t.name).second);
                const gguf::TensorEntry* w = whole->tensor(t.name);
                QVERIFY(w);
                QCOMPARE(t.ne, w->ne);
                QCOMPARE(t.type, w->type);
                QVERIFY(std::memcmp(f->tensorData(t), whole->tensorData(*w), size_t(t.bytes)) == 0);
            }
        }
        QCOMPARE(seen.size(), whole->tensors().size());
    }

    void loadsFromAnyShard_data() {
        QTest::addColumn<int>("from");
        QTest::newRow("shard 1") << 1;
        QTest::newRow("shard 2") << 2;
        QTest::newRow("shard 3") << 3;
    }
    void loadsFromAnyShard() {
        QFETCH(int, from);
        auto whole = Model::load(m_whole);
        QVERIFY2(whole.isOk(), whole.status().message().c_str());
        auto split = Model::load(shard(from));
        QVERIFY2(split.isOk(), split.status().message().c_str());
        const ModelInfo& a = (*whole)->info();
        const ModelInfo& b = (*split)->info();
        QVERIFY(a.spec == b.spec);
        QCOMPARE(b.parameterCount, a.parameterCount);
        QCOMPARE(b.weightBytes, a.weightBytes);
        uint64_t shardBytes = 0;
        for (int i = 1; i <= 3; ++i)
            shardBytes += std::filesystem::file_size(shard(i));
        QCOMPARE(b.fileBytes, shardBytes);
        QCOMPARE(b.tensors.size(), a.tensors.size());
        std::map<std::string, std::string> fileOf;
        for (const TensorInfo& t : b.tensors)
            fileOf[t.name] = t.file;
        std::set<std::string> files;
        for (const TensorInfo& t : a.tensors) {
            QCOMPARE(t.file, m_whole);
            QVERIFY2(fileOf.count(t.name), t.name.c_str());
            const std::string& f = fileOf[t.name];
            QVERIFY2(f == shard(1) || f == shard(2) || f == shard(3), f.c_str());
            files.insert(f);
        }
        QCOMPARE(files.size(), size_t(3));

        std::vector<int32_t> tokens;
        for (int i = 0; i < 19; ++i)
            tokens.push_back(int32_t((i * 41 + 3) % a.spec.nVocab));
        const std::vector<float> la = logitsOf(*whole, tokens), lb = logitsOf(*split, tokens);
        QCOMPARE(la.size(), tokens.size() * size_t(a.spec.nVocab));
        QVERIFY(la == lb); // the same bytes through the same forward
    }

    void brokenSets_data() {
        QTest::addColumn<QString>("breakage");
        QTest::addColumn<int>("load");    // which shard to load
        QTest::addColumn<int>("culprit"); // the shard the message must name (0: the loaded path)
        QTest::addColumn<QString>("expected");
        QTest::newRow("missing shard") << "missing" << 1 << 3 << "shard 3 of 3";
        QTest::newRow("split.count 4 in shard 2")
            << "count" << 1 << 2 << "'split.count' = 4, expected 3";
        QTest::newRow("split.no 0 in shard 3") << "no" << 1 << 3 << "'split.no' = 0, expected 2";
        QTest::newRow("tensor in two shards") << "duplicate" << 2 << 3 << "' is also in ";
        QTest::newRow("wrong tensor total") << "total" << 1 << 2 << "'split.tensors.count' = 5";
        QTest::newRow("renamed shard")
            << "renamed" << 0 << 0 << "does not end in -NNNNN-of-MMMMM.gguf";
        QTest::newRow("name disagrees with keys")
            << "swapped" << 1 << 1 << "disagree with the file name";
    }
    void brokenSets() {
        QFETCH(QString, breakage);
        QFETCH(int, load);
        QFETCH(int, culprit);
        QFETCH(QString, expected);
        const std::string b = breakage.toStdString();
        const std::string prefix = copySet("broken-" + b);
        std::string path = load > 0 ? shard(load, prefix) : std::string();
        Status st;
        if (b == "missing") {
            std::filesystem::remove(shard(3, prefix));
        } else if (b == "count") {
            st = copyGguf(shard(2), shard(2, prefix),
                          {{"split.count", intValue(ValueType::UInt16, 4)}});
        } else if (b == "no") {
            st = copyGguf(shard(3), shard(3, prefix),
                          {{"split.no", intValue(ValueType::UInt16, 0)}});
        } else if (b == "duplicate") {
            auto first = gguf::GgufFile::open(shard(1));
            QVERIFY(first.isOk());
            st = copyGguf(shard(3), shard(3, prefix), {}, &*first, first->tensors().front().name);
        } else if (b == "total") {
            st = copyGguf(shard(2), shard(2, prefix),
                          {{"split.tensors.count", intValue(ValueType::Int32, 5)}});
        } else if (b == "renamed") {
            path = m_dir.path().toStdString() + "/renamed.gguf";
            std::filesystem::copy_file(shard(1), path);
        } else if (b == "swapped") {
            // Shard 1's bytes under shard 2's name and the other way round.
            std::filesystem::remove(shard(1, prefix));
            std::filesystem::remove(shard(2, prefix));
            std::filesystem::copy_file(shard(2), shard(1, prefix));
            std::filesystem::copy_file(shard(1), shard(2, prefix));
        }
        QVERIFY2(st.isOk(), st.message().c_str());
        const std::string named = culprit > 0 ? shard(culprit, prefix) : path;

        auto files = gguf::GgufModelFiles::open(path);
        QVERIFY(!files.isOk());
        QString msg = QString::fromStdString(files.status().message());
        QVERIFY2(msg.contains(QString::fromStdString(named)), qPrintable(msg));
        QVERIFY2(msg.contains(expected), qPrintable(msg));
        // Model::load reports the same error.
        auto model = Model::load(path);
        QVERIFY(!model.isOk());
        msg = QString::fromStdString(model.status().message());
        QVERIFY2(msg.contains(QString::fromStdString(named)) && msg.contains(expected),
                 qPrintable(msg));
    }

    void writeSplitRefusesBadCounts() {
        auto whole = gguf::GgufFile::open(m_whole);
        QVERIFY(whole.isOk());
        const std::string prefix = m_dir.path().toStdString() + "/refused";
        for (int count : {0, int(whole->tensors().size()) + 1}) {
            const Status st = gguf::writeSplit(*whole, prefix, count);
            QCOMPARE(st.code(), StatusCode::InvalidArgument);
            QVERIFY2(st.message().find(m_whole) != std::string::npos, st.message().c_str());
        }
    }
};

QTEST_GUILESS_MAIN(TestGgufSplit)
#include "test-gguf-split.moc"
