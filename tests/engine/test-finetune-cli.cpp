// `moestudio-cli finetune` and `grads` as a user runs them: a LoRA run on a tiny DeepSeek-V2
// model recorded in a project (run, per-step metrics, checkpoint, adapter artifact, a new model
// version under the base), Ctrl-C-style cancellation (SIGINT) leaving a checkpoint that --resume
// finishes, config and dataset errors naming the file and field or line, and `grads` reproducing
// PEFT's loss for a PEFT-made adapter (tests/data/peft).
#include "moe-projects/project-store.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

class TestFinetuneCli : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_model;

    struct Outcome {
        int code = -1;
        QString out, err;
    };
    Outcome cli(const QStringList& args) {
        QProcess p;
        p.start(MOE_CLI_PATH, args);
        Outcome o;
        if (!p.waitForFinished(180000)) {
            p.kill();
            p.waitForFinished();
            return o;
        }
        o.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        o.out = QString::fromUtf8(p.readAllStandardOutput());
        o.err = QString::fromUtf8(p.readAllStandardError());
        return o;
    }
    QString write(const QString& name, const QByteArray& text) {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        if (f.open(QIODevice::WriteOnly)) f.write(text);
        return path;
    }

private slots:
    void initTestCase() {
        m_model = m_dir.filePath("tiny.gguf");
        Outcome o = cli({"make-model", "--arch", "deepseek2", "--preset", "tiny", "--seed", "5", "--out", m_model});
        QVERIFY2(o.code == 0, qPrintable(o.err));
        QByteArray data;
        for (int i = 0; i < 40; ++i)
            data += QByteArray("{\"messages\": [{\"role\": \"user\", \"content\": \"double ") + QByteArray::number(i) +
                    "\"}, {\"role\": \"assistant\", \"content\": \"" + QByteArray::number(2 * i) + "\"}]}\n";
        write("data.jsonl", data);
    }

    void loraRunRecordedInProject() {
        const QString project = m_dir.filePath("proj");
        Outcome o = cli({"project", "init", project});
        if (o.code != 0) o = cli({"project", "create", project});
        write("run.json", R"({"method": "lora", "dataset": "data.jsonl", "max_seq_len": 64, "batch_tokens": 256,
            "lora_rank": 4, "target_modules": ["q_proj", "kv_b_proj", "o_proj"], "learning_rate": 0.01,
            "max_steps": 4, "epochs": 10, "checkpoint_every": 2, "validation_fraction": 0.2, "threads": 2})");
        o = cli({"finetune", m_dir.filePath("run.json"), "--model", m_model, "--project", project});
        QVERIFY2(o.code == 0, qPrintable(o.err + o.out));
        QVERIFY2(o.err.contains("trainable parameters"), qPrintable(o.err));
        QVERIFY2(o.err.contains("step 4/4"), qPrintable(o.err));
        auto store = moe::projects::ProjectStore::open(project.toStdString());
        QVERIFY2(store.isOk(), store.status().message().c_str());
        auto runs = (*store)->trainingRuns().history();
        QVERIFY(runs.isOk());
        QCOMPARE(int(runs->size()), 1);
        const auto run = runs->front();
        QCOMPARE(QString::fromStdString(run.status), QString("completed"));
        auto metrics = (*store)->trainingRuns().metrics(run.id);
        QVERIFY(metrics.isOk());
        QCOMPARE(int(metrics->size()), 4);
        QVERIFY(metrics->back().evalLoss.has_value());
        auto checkpoints = (*store)->trainingRuns().checkpoints(run.id);
        QVERIFY(checkpoints.isOk());
        QCOMPARE(int(checkpoints->size()), 2);
        auto artifacts = (*store)->trainingRuns().artifacts(run.id);
        QVERIFY(artifacts.isOk() && artifacts->size() == 1);
        const QString adapter = QString::fromStdString(artifacts->front().path);
        QVERIFY(QFile::exists(adapter + "/adapter_config.json"));
        QVERIFY(QFile::exists(adapter + "/adapter_model.safetensors"));
        auto models = (*store)->models();
        QVERIFY(models.isOk() && models->size() == 1);
        auto versions = (*store)->modelVersions().versions(models->front().id);
        QVERIFY(versions.isOk());
        QCOMPARE(int(versions->size()), 2);
        QCOMPARE(QString::fromStdString(versions->back().kind), QString("adapter"));
    }

    void interruptAndResume() {
        write("long.json", R"({"method": "full", "dataset": "data.jsonl", "max_seq_len": 64, "batch_tokens": 128,
            "learning_rate": 0.001, "max_steps": 400, "epochs": 100, "threads": 1})");
        const QString out = m_dir.filePath("long-out");
        QProcess p;
        p.start(MOE_CLI_PATH, {"finetune", m_dir.filePath("long.json"), "--model", m_model, "--output", out});
        QVERIFY(p.waitForStarted());
        // Wait for the first steps, then interrupt as Ctrl-C does.
        QString err;
        for (int i = 0; i < 600 && !err.contains("step 2/"); ++i) {
            p.waitForReadyRead(100);
            err += QString::fromUtf8(p.readAllStandardError());
        }
        QVERIFY2(err.contains("step 2/"), qPrintable(err));
        ::kill(pid_t(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(120000));
        err += QString::fromUtf8(p.readAllStandardError());
        QCOMPARE(p.exitCode(), 1);
        QVERIFY2(err.contains("cancelled"), qPrintable(err));
        const QStringList cks = QDir(out + "/checkpoints").entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        QCOMPARE(cks.size(), 1);
        QVERIFY(QFile::exists(out + "/checkpoints/" + cks[0] + "/trainer_state.json"));
        // Resume for the remaining steps (a shorter run: max_steps lowered to the checkpoint + 2).
        const int at = cks[0].mid(5).toInt();
        write("resume.json", QByteArray(R"({"method": "full", "dataset": "data.jsonl", "max_seq_len": 64, "batch_tokens": 128,
            "learning_rate": 0.001, "epochs": 100, "threads": 1, "max_steps": )") + QByteArray::number(at + 2) + "}");
        Outcome o = cli({"finetune", m_dir.filePath("resume.json"), "--model", m_model, "--output", out, "--resume",
                         out + "/checkpoints/" + cks[0]});
        QVERIFY2(o.code == 0, qPrintable(o.err));
        QVERIFY2(o.err.contains(QString("resumed at step %1").arg(at)), qPrintable(o.err));
        QVERIFY(QFile::exists(out + "/weights/model.safetensors"));
    }

    void errorsNameTheProblem() {
        write("typo.json", R"({"method": "lora", "dataset": "data.jsonl", "learning_rat": 0.1})");
        Outcome o = cli({"finetune", m_dir.filePath("typo.json"), "--model", m_model});
        QCOMPARE(o.code, 1);
        QVERIFY2(o.err.contains("typo.json") && o.err.contains("learning_rat"), qPrintable(o.err));
        write("bad.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"yo\"}]}\n{oops\n");
        write("badrun.json", R"({"dataset": "bad.jsonl"})");
        o = cli({"finetune", m_dir.filePath("badrun.json"), "--model", m_model});
        QCOMPARE(o.code, 1);
        QVERIFY2(o.err.contains("bad.jsonl") && o.err.contains("2"), qPrintable(o.err));
    }

    void gradsMatchesPeftLoss() {
        const QString data = QStringLiteral(MOE_TEST_DATA_DIR);
        const QString peft = data + "/peft/mixtral";
        const QString out = m_dir.filePath("grads.safetensors");
        Outcome o = cli({"grads", "--model", data + "/parity/mixtral", "--adapter", peft, "--tokens", peft + "/tokens.npy",
                         "--labels", peft + "/labels.npy", "--out", out});
        QVERIFY2(o.code == 0, qPrintable(o.err));
        const QJsonObject res = QJsonDocument::fromJson(o.out.toUtf8()).object();
        QFile g(peft + "/golden.json");
        QVERIFY(g.open(QIODevice::ReadOnly));
        const double ref = QJsonDocument::fromJson(g.readAll()).object().value("loss").toDouble();
        QVERIFY2(std::abs(res.value("loss").toDouble() - ref) <= 1e-5 * ref, qPrintable(o.out));
        QCOMPARE(res.value("tensors").toInt(), 16);
        QVERIFY(QFile::exists(out));
        o = cli({"grads", "--model", data + "/parity/mixtral", "--adapter", m_dir.path(), "--tokens", peft + "/tokens.npy",
                 "--labels", peft + "/labels.npy", "--out", out});
        QCOMPARE(o.code, 1);
        QVERIFY2(o.err.contains("adapter_config.json"), qPrintable(o.err));
    }
};

QTEST_GUILESS_MAIN(TestFinetuneCli)
#include "test-finetune-cli.moc"
