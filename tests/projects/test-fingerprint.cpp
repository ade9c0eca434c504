// Model fingerprints: the SHA-256 against the FIPS 180-4 / NIST example vectors (the golden;
// any SHA-256 tool reproduces them, e.g. `printf abc | sha256sum`), then fileFingerprint()'s
// definition: size + first 8 MiB + last 8 MiB for a file, sorted names + sizes + fingerprints
// for a folder.
#include "moe-projects/project-store.h"
#include "sha256.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace moe::projects;

namespace {

constexpr qint64 kMiB = 1 << 20;

bool writeFile(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

bool patchByte(const QString& path, qint64 offset, char value) {
    QFile file(path);
    if (!file.open(QIODevice::ReadWrite) || !file.seek(offset)) return false;
    return file.write(&value, 1) == 1;
}

std::string fingerprintOf(const QString& path) {
    auto fp = fileFingerprint(path.toStdString());
    return fp.isOk() ? *fp : "error: " + fp.status().toString();
}

} // namespace

class TestFingerprint : public QObject {
    Q_OBJECT

private slots:
    void sha256Vectors_data();
    void sha256Vectors();
    void sha256StreamsInAnyChunks();
    void smallFileFollowsDefinition();
    void largeFileHashesHeadAndTailOnly();
    void folderIsOrderIndependent();
    void missingPathFails();
};

void TestFingerprint::sha256Vectors_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("digest");
    QTest::newRow("empty") << QByteArray()
                           << "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    QTest::newRow("abc") << QByteArray("abc")
                         << "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    QTest::newRow("two blocks")
        << QByteArray("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
        << "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
    QTest::newRow("55 bytes (padding fits)")
        << QByteArray(55, 'a')
        << "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318";
    QTest::newRow("56 bytes (padding spills)")
        << QByteArray(56, 'a')
        << "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a";
}

void TestFingerprint::sha256Vectors() {
    QFETCH(QByteArray, input);
    QFETCH(QString, digest);
    Sha256 sha;
    sha.update(std::string_view(input.constData(), size_t(input.size())));
    QCOMPARE(QString::fromStdString(sha.finishHex()), digest);
}

void TestFingerprint::sha256StreamsInAnyChunks() {
    // One million 'a' (FIPS 180-2 appendix B.3), fed in uneven chunks.
    const std::string million(1000000, 'a');
    Sha256 sha;
    size_t pos = 0;
    for (size_t chunk = 1; pos < million.size(); chunk = chunk * 3 % 1021 + 1) {
        const size_t take = std::min(chunk, million.size() - pos);
        sha.update(std::string_view(million).substr(pos, take));
        pos += take;
    }
    QCOMPARE(sha.finishHex(),
             std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
}

void TestFingerprint::smallFileFollowsDefinition() {
    QTemporaryDir tmp;
    const QString path = tmp.filePath(QStringLiteral("model.gguf"));
    const QByteArray content("GGUF\x03\x00\x00\x00 tiny", 13);
    QVERIFY(writeFile(path, content));
    Sha256 expected;
    uint8_t size[8] = {13, 0, 0, 0, 0, 0, 0, 0};
    expected.update(std::span<const uint8_t>(size, 8));
    expected.update(std::string_view(content.constData(), size_t(content.size())));
    QCOMPARE(fingerprintOf(path), "fp1:" + expected.finishHex());
}

void TestFingerprint::largeFileHashesHeadAndTailOnly() {
    QTemporaryDir tmp;
    const QString path = tmp.filePath(QStringLiteral("big.bin"));
    QByteArray bytes(20 * kMiB, '\0');
    for (qint64 i = 0; i < bytes.size(); i += 4099)
        bytes[i] = char(i * 31);
    QVERIFY(writeFile(path, bytes));
    const std::string original = fingerprintOf(path);
    QVERIFY2(original.starts_with("fp1:") && original.size() == 68, original.c_str());
    QCOMPARE(fingerprintOf(path), original); // deterministic

    // The middle (between the first and last 8 MiB) is not read.
    QVERIFY(patchByte(path, 10 * kMiB, 'M'));
    QCOMPARE(fingerprintOf(path), original);
    // The head and the tail are.
    QVERIFY(patchByte(path, 8 * kMiB - 1, 'H'));
    const std::string headChanged = fingerprintOf(path);
    QVERIFY(headChanged != original);
    QVERIFY(patchByte(path, 12 * kMiB, 'T'));
    QVERIFY(fingerprintOf(path) != headChanged);
}

void TestFingerprint::folderIsOrderIndependent() {
    QTemporaryDir tmp;
    QDir root(tmp.path());
    QVERIFY(root.mkpath(QStringLiteral("a/sub")) && root.mkpath(QStringLiteral("b/sub")));
    // Same files, written in opposite orders.
    QVERIFY(writeFile(root.filePath(QStringLiteral("a/config.json")), "{}"));
    QVERIFY(writeFile(root.filePath(QStringLiteral("a/sub/model.safetensors")), "weights"));
    QVERIFY(writeFile(root.filePath(QStringLiteral("b/sub/model.safetensors")), "weights"));
    QVERIFY(writeFile(root.filePath(QStringLiteral("b/config.json")), "{}"));
    const std::string a = fingerprintOf(root.filePath(QStringLiteral("a")));
    QVERIFY2(a.starts_with("fp1:"), a.c_str());
    QCOMPARE(fingerprintOf(root.filePath(QStringLiteral("b"))), a);
    QVERIFY(a != fingerprintOf(root.filePath(QStringLiteral("a/config.json"))));

    // A renamed file or changed content changes the folder's fingerprint.
    QVERIFY(QFile::rename(root.filePath(QStringLiteral("b/config.json")),
                          root.filePath(QStringLiteral("b/config2.json"))));
    const std::string renamed = fingerprintOf(root.filePath(QStringLiteral("b")));
    QVERIFY(renamed != a);
    QVERIFY(writeFile(root.filePath(QStringLiteral("b/config2.json")), "{ }"));
    QVERIFY(fingerprintOf(root.filePath(QStringLiteral("b"))) != renamed);
}

void TestFingerprint::missingPathFails() {
    QTemporaryDir tmp;
    const QString missing = tmp.filePath(QStringLiteral("absent.gguf"));
    auto fp = fileFingerprint(missing.toStdString());
    QVERIFY(!fp.isOk());
    QCOMPARE(fp.status().code(), moe::StatusCode::NotFound);
    QVERIFY2(QString::fromStdString(fp.status().message()).contains(missing),
             fp.status().message().c_str());
}

QTEST_GUILESS_MAIN(TestFingerprint)
#include "test-fingerprint.moc"
