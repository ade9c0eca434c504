// Regression files from fuzzing (docs/fuzzing.md): every file in tests/data/bad/ once crashed,
// leaked, overflowed or hung one of our parsers. Each is opened here with the parser its name
// prefix names and must give a clean error Status whose message names the file (chat templates:
// a clean compile or render error naming the template origin). The inputs are libFuzzer
// artifacts, minimized; none comes from our own writers.
#include "formats/gguf/gguf-reader.h"
#include "formats/safetensors/safetensors-file.h"
#include "moe/chat-template.h"
#include "moe/model.h"
#include "tokenizers/bpe-tokenizer.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTest>

namespace {

const QString kBadDir = QStringLiteral(MOE_TEST_DATA_DIR "/bad");
const QStringList kPrefixes = {"gguf-", "safetensors-", "tokenizer-json-", "chat-template-",
                               "model-load-"};

// The parser a file's name prefix selects, run on path; the Status it returns.
moe::Status openWith(const QString& name, const std::string& path) {
    if (name.startsWith("gguf-")) return moe::gguf::GgufFile::open(path).status();
    if (name.startsWith("safetensors-")) return moe::st::SafetensorsFile::open(path).status();
    if (name.startsWith("tokenizer-json-"))
        return moe::BpeTokenizer::fromTokenizerJson(path).status();
    if (name.startsWith("model-load-")) return moe::Model::load(path).status();
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly)) return moe::Status(moe::StatusCode::NotFound, path);
    const QByteArray src = f.readAll();
    auto tmpl = moe::ChatTemplate::compile(src.toStdString(), path);
    if (!tmpl.isOk()) return tmpl.status();
    moe::ChatTemplateInput in;
    in.messagesJson = R"([{"role": "system", "content": "You are brief."},
                          {"role": "user", "content": "Hi"}])";
    return tmpl.value().render(in).status();
}

} // namespace

class TestBadFiles : public QObject {
    Q_OBJECT
private slots:
    void everyFileHasAParser();
    void rejectedCleanly_data();
    void rejectedCleanly();
};

void TestBadFiles::everyFileHasAParser() {
    const QStringList files = QDir(kBadDir).entryList(QDir::Files);
    QVERIFY2(!files.isEmpty(), qPrintable(kBadDir + " holds no regression files"));
    for (const QString& name : files) {
        bool known = false;
        for (const QString& p : kPrefixes)
            known = known || name.startsWith(p);
        QVERIFY2(known, qPrintable(name + ": name starts with no parser prefix"));
    }
}

void TestBadFiles::rejectedCleanly_data() {
    QTest::addColumn<QString>("path");
    for (const QString& name : QDir(kBadDir).entryList(QDir::Files))
        QTest::newRow(qPrintable(name)) << QDir(kBadDir).filePath(name);
}

void TestBadFiles::rejectedCleanly() {
    QFETCH(QString, path);
    const std::string p = path.toStdString();
    const moe::Status st = openWith(QFileInfo(path).fileName(), p);
    QVERIFY2(!st.isOk(), qPrintable(path + ": was accepted"));
    const QString msg = QString::fromStdString(st.message());
    QVERIFY2(msg.contains(path), qPrintable("message does not name the file: " + msg));
}

QTEST_GUILESS_MAIN(TestBadFiles)
#include "test-bad-files.moc"
