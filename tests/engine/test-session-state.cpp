// Session state files: a prompt computed once, saved, and restored into another session must
// continue exactly as the original session does (bit for bit on the same device, within float
// rounding on another); files for another model or expert policy, truncated or foreign files are
// refused naming the file, leaving the session as it was. Models: the transformers-made tiny
// checkpoints of tests/data/parity (GQA K/V rows and DeepSeek's MLA latent rows).
#include "moe/model.h"
#include "moe/session.h"

#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace moe;

namespace {

std::shared_ptr<const Model> load(const char* name) {
    auto m = Model::load(std::string(MOE_TEST_DATA_DIR) + "/parity/" + name);
    return m.isOk() ? *m : nullptr;
}

std::vector<int32_t> prompt(int n) {
    std::vector<int32_t> v;
    for (int i = 0; i < n; ++i) v.push_back(int32_t((7 + 31 * i) % 250));
    return v;
}

} // namespace

class TestSessionState : public QObject {
    Q_OBJECT

private slots:
    void resumesExactly_data() {
        QTest::addColumn<QString>("model");
        for (const char* c : {"mixtral", "deepseek_v3", "qwen3_moe"}) QTest::newRow(c) << QString(c);
    }
    void resumesExactly() {
        QFETCH(QString, model);
        auto m = load(qPrintable(model));
        QVERIFY(m);
        QTemporaryDir dir;
        const std::string file = dir.filePath("state.bin").toStdString();
        SessionOptions o;
        o.nCtx = 96;
        auto a = Session::create(m, o);
        QVERIFY(a.isOk());
        QVERIFY((*a)->evaluate(prompt(70)).isOk()); // crosses a 64-row page
        const Status saved = (*a)->saveState(file);
        QVERIFY2(saved.isOk(), saved.message().c_str());
        QVERIFY(!std::filesystem::exists(file + ".part"));
        auto b = Session::create(m, o);
        QVERIFY(b.isOk());
        const Status restored = (*b)->restoreState(file);
        QVERIFY2(restored.isOk(), restored.message().c_str());
        QCOMPARE((*b)->position(), 70);
        const std::vector<int32_t> next = {3, 99, 17, 200, 5};
        auto la = (*a)->evaluate(next);
        auto lb = (*b)->evaluate(next);
        QVERIFY(la.isOk() && lb.isOk());
        QCOMPARE(*lb, *la);
    }

    void refusesWhatDoesNotFit() {
        auto mixtral = load("mixtral");
        auto deepseek = load("deepseek_v3");
        QVERIFY(mixtral && deepseek);
        QTemporaryDir dir;
        const std::string file = dir.filePath("state.bin").toStdString();
        SessionOptions o;
        o.nCtx = 64;
        auto a = Session::create(mixtral, o);
        QVERIFY((*a)->evaluate(prompt(30)).isOk());
        QVERIFY((*a)->saveState(file).isOk());

        auto expectRefusal = [&](Session& s, const std::string& path, const char* what) {
            const int before = s.position();
            const Status st = s.restoreState(path);
            QVERIFY2(!st.isOk(), what);
            QVERIFY2(st.message().find(path) != std::string::npos, st.message().c_str());
            QVERIFY2(st.message().find(what) != std::string::npos, st.message().c_str());
            QCOMPARE(s.position(), before);
        };
        // Another model.
        auto other = Session::create(deepseek, o);
        QVERIFY((*other)->evaluate(prompt(4)).isOk());
        expectRefusal(**other, file, "architecture");
        // Another expert policy.
        SessionOptions policyOptions = o;
        policyOptions.expertPolicy.maxExperts = 1;
        auto policy = Session::create(mixtral, policyOptions);
        expectRefusal(**policy, file, "policy");
        // A context too small for the saved tokens.
        SessionOptions small = o;
        small.nCtx = 16;
        auto tiny = Session::create(mixtral, small);
        expectRefusal(**tiny, file, "context");
        // Truncated, and not a state file at all.
        const std::string cut = dir.filePath("cut.bin").toStdString();
        std::filesystem::copy_file(file, cut);
        std::filesystem::resize_file(cut, std::filesystem::file_size(file) - 10);
        auto fresh = Session::create(mixtral, o);
        expectRefusal(**fresh, cut, "truncated");
        const std::string junk = dir.filePath("junk.bin").toStdString();
        std::ofstream(junk) << "definitely not a session";
        expectRefusal(**fresh, junk, "not a MoE Studio session state file");
        expectRefusal(**fresh, dir.filePath("missing.bin").toStdString(), "cannot open");
    }
};

QTEST_GUILESS_MAIN(TestSessionState)
#include "test-session-state.moc"
