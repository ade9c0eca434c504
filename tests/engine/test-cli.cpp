// moestudio-cli as a user runs it: --version, make-model, info, generate with its speed line, and
// malformed GGUF files (truncated, wrong magic, tensor offset past the end, absurd counts) that
// must exit non-zero with a message naming the file and the problem — never crash.
#include "gguf-bytes.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

class TestCli : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_model;

    struct Outcome {
        int code = -1;
        bool crashed = false;
        QString out, err;
    };
    Outcome cli(const QStringList& args) {
        QProcess p;
        p.start(MOE_CLI_PATH, args);
        Outcome o;
        if (!p.waitForFinished(120000)) {
            p.kill();
            p.waitForFinished();
            o.crashed = true;
            return o;
        }
        o.crashed = p.exitStatus() != QProcess::NormalExit;
        o.code = p.exitCode();
        o.out = QString::fromUtf8(p.readAllStandardOutput());
        o.err = QString::fromUtf8(p.readAllStandardError());
        return o;
    }
    QString writeFile(const QString& name, const QByteArray& bytes) {
        QString path = m_dir.path() + "/" + name;
        QFile f(path);
        if (f.open(QIODevice::WriteOnly)) f.write(bytes);
        return path;
    }
    static QByteArray toBytes(const GgufBytes& g) {
        return QByteArray(reinterpret_cast<const char*>(g.b.data()), qsizetype(g.b.size()));
    }

private slots:
    void initTestCase() {
        m_model = m_dir.path() + "/tiny.gguf";
        Outcome o = cli({"make-model", "--arch", "mixtral", "--preset", "tiny", "--seed", "3", "--out", m_model});
        QVERIFY2(o.code == 0, qPrintable(o.err));
    }

    void version() {
        Outcome o = cli({"--version"});
        QCOMPARE(o.code, 0);
        QVERIFY(o.out.startsWith("moestudio-cli 0."));
    }

    void info() {
        Outcome o = cli({"info", m_model, "--tensors"});
        QVERIFY2(o.code == 0, qPrintable(o.err));
        QVERIFY(o.out.contains("llama (family gqa-moe)"));
        QVERIFY(o.out.contains("4 routed, 2 per token"));
        QVERIFY(o.out.contains("blk.1.ffn_down_exps.weight"));
        QVERIFY(o.out.contains("[4, 64, 96]")); // stacked experts in PyTorch order
        QVERIFY2(o.out.contains("cpu:0") && o.out.contains("fits with a context of up to 2048 tokens"),
                 qPrintable(o.out)); // the tiny preset's trained context caps it
        Outcome d = cli({"info", "--devices"});
        QCOMPARE(d.code, 0);
        QVERIFY(d.out.contains("cpu:0"));
    }

    void generateStreamsAndReportsSpeed() {
        Outcome o = cli({"generate", "--model", m_model, "--prompt", "Hi", "--max-tokens", "16", "--seed", "9"});
        QVERIFY2(o.code == 0, qPrintable(o.err));
        QVERIFY2(o.err.contains("decode") && o.err.contains("tok/s") && o.err.contains("TTFT"), qPrintable(o.err));
        Outcome again = cli({"generate", "--model", m_model, "--prompt", "Hi", "--max-tokens", "16", "--seed", "9"});
        QCOMPARE(again.out, o.out); // the seed holds across processes
    }

    void badArguments() {
        QCOMPARE(cli({"generate", "--model", m_model}).code, 2);
        QCOMPARE(cli({"generate", "--model", m_model, "--prompt", "x", "--top-p", "7"}).code, 2);
        QCOMPARE(cli({"info", m_model, "--frobnicate"}).code, 2);
        QCOMPARE(cli({"no-such-command"}).code, 2);
    }

    void malformedFiles_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("problem");
        QFile good(m_model);
        QVERIFY(good.open(QIODevice::ReadOnly));
        const QByteArray full = good.readAll();
        QTest::newRow("truncated") << full.left(full.size() / 2) << "past the end of the file";
        QTest::newRow("truncated header") << full.left(300) << "truncated";
        QTest::newRow("empty") << QByteArray() << "truncated";
        QByteArray magic = full;
        magic[0] = 'X';
        QTest::newRow("wrong magic") << magic << "not a GGUF file";
        GgufBytes g;
        g.header(1, 1).kvStr("general.architecture", "llama").tensorInfo("w", {64, 64}, 0, 1 << 20).align().zeros(64);
        QTest::newRow("offset past the end") << toBytes(g) << "past the end of the file";
        QTest::newRow("absurd tensor count") << toBytes(GgufBytes().header(uint64_t(1) << 62, 0)) << "tensor_count";
        QTest::newRow("absurd kv count") << toBytes(GgufBytes().header(0, uint64_t(1) << 62)) << "metadata_kv_count";
        GgufBytes arr;
        arr.header(0, 1).str("tokenizer.ggml.tokens").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(uint64_t(1) << 60);
        QTest::newRow("absurd array") << toBytes(arr) << "cannot fit";
        GgufBytes noArch;
        noArch.header(0, 1).kvU32("x", 1);
        QTest::newRow("no architecture") << toBytes(noArch) << "general.architecture";
    }

    void malformedFiles() {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, problem);
        const QString path = writeFile("broken.gguf", bytes);
        Outcome o = cli({"info", path});
        QVERIFY(!o.crashed);
        QCOMPARE(o.code, 1);
        QVERIFY2(o.err.contains(path), qPrintable(o.err));
        QVERIFY2(o.err.contains(problem), qPrintable(o.err));
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test-cli.moc"
