// Reports end to end, offscreen: a project in a temp dir with bench runs of three versions of one
// model (base, a LoRA adapter, a Q4_K quantization) recorded through the store API (speed samples
// and summaries, perplexity, KL vs base, choice accuracy, exact match, routing with domains), then
// rendered as HTML, PDF and CSV through writeReport and the CLI.
// Checks: the gathered model (versions, environment, metrics, routing matrices); the HTML is
// self-contained (no external URL, charts as data: URIs) and holds every section; the CSV parses
// (RFC 4180) with the declared columns; the PDF rasterized by pdftoppm (poppler-utils) has >= 2
// A4 pages, none blank, and several with chart colours; reports rows record path and source runs;
// a relative --out lands under reports/; bad input is refused naming the problem.
#include "moe-projects/project-store.h"
#include "report-fixture.h"
#include "reports/report-csv.h"
#include "reports/report-model.h"
#include "reports/report-writer.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <memory>

using namespace moe::projects;
namespace reports = moe::ui::reports;

namespace {

// RFC 4180 rows (quoted fields, doubled quotes, CRLF).
QList<QStringList> parseCsv(const QString& text) {
    QList<QStringList> rows;
    QStringList row;
    QString field;
    bool quoted = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == QLatin1Char('"') && i + 1 < text.size() && text[i + 1] == QLatin1Char('"')) {
                field += c;
                ++i;
            } else if (c == QLatin1Char('"')) {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == QLatin1Char('"')) {
            quoted = true;
        } else if (c == QLatin1Char(',')) {
            row << field;
            field.clear();
        } else if (c == QLatin1Char('\r') && i + 1 < text.size() &&
                   text[i + 1] == QLatin1Char('\n')) {
            row << field;
            rows << row;
            row.clear();
            field.clear();
            ++i;
        } else {
            field += c;
        }
    }
    if (!field.isEmpty() || !row.isEmpty()) rows << (row << field);
    return rows;
}

} // namespace

class TestReport : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void parsesSpeedMetricNames_data();
    void parsesSpeedMetricNames();
    void gathersVersionsInRunOrder();
    void refusesBadRuns();
    void htmlIsSelfContained();
    void csvParsesWithDeclaredColumns();
    void pdfPagesHoldCharts();
    void cliWritesAndRecords();

private:
    QString projectDir() const { return m_dir.filePath(QStringLiteral("project")); }

    QTemporaryDir m_dir;
    std::unique_ptr<ProjectStore> m_store;
    ReportFixture m_fixture;
    std::vector<int64_t> m_runs; // one bench run per version: base, lora, q4_k
};

void TestReport::initTestCase() {
    QVERIFY(m_dir.isValid());
    // MOE_TEST_KEEP=1 keeps the project, reports and page images to look at.
    if (qEnvironmentVariableIsSet("MOE_TEST_KEEP")) {
        m_dir.setAutoRemove(false);
        qInfo("keeping %s", qPrintable(m_dir.path()));
    }
    auto store = ProjectStore::create(projectDir().toStdString(), "report-test");
    QVERIFY2(store.isOk(), store.status().toString().c_str());
    m_store = std::move(store).value();
    recordReportFixture(*m_store, m_fixture);
    m_runs = m_fixture.runs;
}

void TestReport::parsesSpeedMetricNames_data() {
    QTest::addColumn<QString>("metric");
    QTest::addColumn<QString>("unit");
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("tokens");
    QTest::addColumn<int>("batch");
    QTest::addColumn<int>("depth");
    QTest::addColumn<QString>("label");
    using K = reports::SpeedPoint::Kind;
    QTest::newRow("pp") << "pp512_tok_s"
                        << "tok/s" << int(K::Prefill) << 512 << 1 << 0 << "pp512";
    QTest::newRow("tg") << "tg128_tok_s"
                        << "tok/s" << int(K::Decode) << 128 << 1 << 0 << "tg128";
    QTest::newRow("batch+depth") << "tg128_b4_d4096_tok_s"
                                 << "tok/s" << int(K::Decode) << 128 << 4 << 4096
                                 << "tg128 b4 @4096";
    QTest::newRow("ttft") << "ttft512_ms"
                          << "ms" << int(K::Latency) << 0 << 1 << 0 << "ttft512";
    QTest::newRow("itl") << "itl128_d4096_ms"
                         << "ms" << int(K::Latency) << 0 << 1 << 0 << "itl128_d4096";
    QTest::newRow("load") << "load_ms"
                          << "ms" << int(K::Other) << 0 << 1 << 0 << "load";
}

void TestReport::parsesSpeedMetricNames() {
    QFETCH(QString, metric);
    QFETCH(QString, unit);
    QFETCH(int, kind);
    QFETCH(int, tokens);
    QFETCH(int, batch);
    QFETCH(int, depth);
    QFETCH(QString, label);
    const reports::SpeedPoint p = reports::parseSpeedMetric(metric, unit);
    QCOMPARE(int(p.kind), kind);
    QCOMPARE(p.tokens, tokens);
    QCOMPARE(p.batch, batch);
    QCOMPARE(p.depth, depth);
    QCOMPARE(reports::speedLabel(metric), label);
}

void TestReport::gathersVersionsInRunOrder() {
    // q4_k first: it becomes the reference.
    const std::vector<int64_t> runs = {m_runs[2], m_runs[0], m_runs[1]};
    auto data = reports::gatherReport(*m_store, runs, QString());
    QVERIFY2(data.isOk(), data.status().toString().c_str());
    QCOMPARE(data->title, QStringLiteral("Benchmark report"));
    QCOMPARE(data->versions.size(), size_t(3));
    QCOMPARE(data->versions[0].name, QStringLiteral("q4_k"));
    QCOMPARE(data->versions[1].name, QStringLiteral("tiny-mixtral"));
    QCOMPARE(data->versions[2].lineage, QStringLiteral("tiny-mixtral -> lora"));
    QCOMPARE(data->environments.size(), size_t(3));
    QCOMPARE(data->environments[0].cpu, QStringLiteral("Test CPU 8 cores"));
    QCOMPARE(data->environments[0].other, QStringLiteral("threads=8"));
    const reports::VersionSection& base = data->versions[1];
    QCOMPARE(base.speed.size(), size_t(10));
    const reports::SpeedRow* ttft = base.speedMetric(QStringLiteral("ttft128_ms"));
    QVERIFY(ttft);
    QCOMPARE(ttft->samples.size(), size_t(30));
    QVERIFY(base.speedMetric(QStringLiteral("pp512_tok_s"))->samples.empty());
    QVERIFY(!base.qualityKey(QStringLiteral("kl_mean")));
    QCOMPARE(data->versions[2].qualityKey(QStringLiteral("kl_mean"))->value, 0.081);
    QCOMPARE(base.qualityKey(QStringLiteral("acc · mmlu-mini"))->value, 0.52);
    QVERIFY(base.routing);
    QCOMPARE(base.routing->layers, 6);
    QCOMPARE(base.routing->domains.keys(), (QStringList{"code", "legal"}));
    QCOMPARE(*base.routing->entropyMean, 0.9);
    const QStringList speed = data->speedMetrics();
    QCOMPARE(speed.mid(0, 3), (QStringList{"pp128_tok_s", "pp512_tok_s", "pp2048_tok_s"}));
    QCOMPARE(data->qualityKeys().first(), QStringLiteral("ppl"));
}

void TestReport::refusesBadRuns() {
    auto none = reports::gatherReport(*m_store, std::vector<int64_t>{}, QString());
    QVERIFY(!none.isOk());
    auto missing = reports::gatherReport(*m_store, std::vector<int64_t>{m_runs[0], 999}, QString());
    QVERIFY(!missing.isOk());
    QVERIFY2(missing.status().message().find("run 999") != std::string::npos,
             missing.status().message().c_str());
    auto notBench = m_store->trainingRuns().begin("finetune", "{}");
    QVERIFY(notBench.isOk());
    QVERIFY(m_store->trainingRuns().finish(*notBench, "completed", "{}").isOk());
    auto wrongKind = reports::gatherReport(*m_store, std::vector<int64_t>{*notBench}, QString());
    QVERIFY(!wrongKind.isOk());
    QVERIFY(wrongKind.status().message().find("bench run") != std::string::npos);
    auto badExt = reports::writeReport(*m_store, {.runIds = m_runs, .out = "x.docx", .title = {}});
    QVERIFY(!badExt.isOk());
    QVERIFY(badExt.status().message().find("x.docx") != std::string::npos);
}

void TestReport::htmlIsSelfContained() {
    auto written = reports::writeReport(
        *m_store, {.runIds = m_runs, .out = "cmp/three.html", .title = "Base, LoRA & Q4_K"});
    QVERIFY2(written.isOk(), written.status().toString().c_str());
    QCOMPARE(written->recordedPath, QStringLiteral("reports/cmp/three.html"));
    QCOMPARE(written->absolutePath, QDir(projectDir()).filePath("reports/cmp/three.html"));
    QFile f(written->absolutePath);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString html = QString::fromUtf8(f.readAll());
    QVERIFY(!html.contains(
        QRegularExpression(QStringLiteral("(https?|ftp)://|//[a-z0-9.-]+\\.[a-z]{2,}/"),
                           QRegularExpression::CaseInsensitiveOption)));
    QVERIFY(!html.contains(QStringLiteral("<link")));
    QVERIFY(!html.contains(QStringLiteral("<script")));
    // Every src is a data: URI and every chart is an image of real size.
    const QRegularExpression src(QStringLiteral("src=\"([^\"]*)\""));
    int images = 0;
    for (auto it = src.globalMatch(html); it.hasNext(); ++images) {
        const QString uri = it.next().captured(1);
        QVERIFY2(uri.startsWith(QStringLiteral("data:image/png;base64,")),
                 qPrintable(uri.left(40)));
        QImage img;
        QVERIFY(img.loadFromData(QByteArray::fromBase64(uri.mid(22).toLatin1()), "PNG"));
        QVERIFY(img.width() >= 900 && img.height() >= 200);
    }
    // Prefill, decode, prefill by length, decode by batch and depth, ttft (128 and 512 in one),
    // ppl, KL, accuracy, 3 routing heatmaps + 3 domain affinities.
    QCOMPARE(images, 15);
    for (const char* text :
         {"Base, LoRA &amp; Q4_K", "Environment", "Test CPU 8 cores", "Speed: lora", "Quality",
          "Routing", "Comparison", "tiny-mixtral -&gt; lora", "acc · mmlu-mini",
          "Expert routing: q4_k", "class=\"better\""})
        QVERIFY2(html.contains(QString::fromUtf8(text)), text);

    auto recorded = m_store->reports().list();
    QVERIFY(recorded.isOk());
    QCOMPARE(recorded->front().id, written->reportId);
    QCOMPARE(recorded->front().format, std::string("html"));
    QCOMPARE(recorded->front().path, std::string("reports/cmp/three.html"));
    QCOMPARE(recorded->front().title, std::string("Base, LoRA & Q4_K"));
    const QJsonObject source =
        QJsonDocument::fromJson(QByteArray::fromStdString(recorded->front().sourceJson)).object();
    QCOMPARE(source.value("runs").toArray().size(), 3);
    QCOMPARE(source.value("runs").toArray()[1].toInteger(), m_runs[1]);
    QCOMPARE(source.value("versions").toArray().size(), 3);
}

void TestReport::csvParsesWithDeclaredColumns() {
    const QString out = m_dir.filePath(QStringLiteral("outside/three.csv")); // absolute, outside
    auto written = reports::writeReport(*m_store, {.runIds = m_runs, .out = out, .title = {}});
    QVERIFY2(written.isOk(), written.status().toString().c_str());
    QCOMPARE(written->recordedPath, out);
    QFile f(out);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QList<QStringList> rows = parseCsv(QString::fromUtf8(f.readAll()));
    QVERIFY(rows.size() > 10);
    QCOMPARE(rows.front(), reports::kCsvColumns);
    const auto col = [](const char* name) { return reports::kCsvColumns.indexOf(name); };
    int speed = 0, quality = 0, routing = 0, environment = 0, deltas = 0;
    for (qsizetype i = 1; i < rows.size(); ++i) {
        const QStringList& r = rows[i];
        QCOMPARE(r.size(), reports::kCsvColumns.size());
        const QString section = r[col("section")];
        QVERIFY(!r[col("version_id")].isEmpty());
        if (section == "environment") {
            ++environment;
            continue;
        }
        bool ok = false;
        r[col("value")].toDouble(&ok);
        QVERIFY2(ok, qPrintable(r.join(',')));
        if (section == "speed") ++speed;
        if (section == "quality") ++quality;
        if (section == "routing") ++routing;
        if (!r[col("delta_pct")].isEmpty()) {
            r[col("delta_pct")].toDouble(&ok);
            QVERIFY(ok);
            QVERIFY(r[col("version")] != "tiny-mixtral"); // the reference has no delta
            ++deltas;
        }
    }
    QCOMPARE(environment, 3 * 9);
    QCOMPARE(speed, 3 * 10);
    QCOMPARE(quality, 3 * 6 + 2 * 3); // ppl, nll, acc, acc_norm, exact_match, entropy; KL x2
    QCOMPARE(routing, 3 * 6 * 8 * 3); // versions x layers x experts x (all + 2 domains)
    QCOMPARE(deltas, 2 * 10 + 2 * 6); // lora and q4_k against the base; KL has no base value
}

void TestReport::pdfPagesHoldCharts() {
    auto written =
        reports::writeReport(*m_store, {.runIds = m_runs, .out = "three.pdf", .title = {}});
    QVERIFY2(written.isOk(), written.status().toString().c_str());
    QFile f(written->absolutePath);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY(f.read(5) == "%PDF-");
    const QString pdftoppm = QStandardPaths::findExecutable(QStringLiteral("pdftoppm"));
    if (pdftoppm.isEmpty())
        QSKIP("pdftoppm (poppler-utils) is not installed: the PDF pages cannot be rasterized");
    const QString prefix = m_dir.filePath(QStringLiteral("pages/page"));
    QDir().mkpath(QFileInfo(prefix).absolutePath());
    QProcess p;
    p.start(pdftoppm, {"-png", "-r", "40", written->absolutePath, prefix});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 0);
    const QStringList pages =
        QDir(QFileInfo(prefix).absolutePath()).entryList({"page*.png"}, QDir::Files, QDir::Name);
    QVERIFY2(pages.size() >= 2, qPrintable(QString::number(pages.size())));
    int chartPages = 0;
    for (const QString& name : pages) {
        QImage img(QFileInfo(prefix).absolutePath() + "/" + name);
        QVERIFY(!img.isNull());
        // A4 portrait: height / width = sqrt(2).
        QVERIFY(std::abs(double(img.height()) / img.width() - 1.414) < 0.01);
        double sum = 0, sq = 0;
        qint64 coloured = 0;
        const qint64 n = qint64(img.width()) * img.height();
        for (int y = 0; y < img.height(); ++y)
            for (int x = 0; x < img.width(); ++x) {
                const QColor c = img.pixelColor(x, y);
                const double g = qGray(c.rgb());
                sum += g;
                sq += g * g;
                if (c.hsvSaturation() > 80 && c.value() > 60) ++coloured;
            }
        const double mean = sum / double(n);
        const double variance = sq / double(n) - mean * mean;
        QVERIFY2(variance > 20,
                 qPrintable(name + " looks blank, variance " + QString::number(variance)));
        if (double(coloured) / double(n) > 0.02) ++chartPages;
    }
    QVERIFY2(chartPages >= 3, qPrintable(QString::number(chartPages)));
}

void TestReport::cliWritesAndRecords() {
    m_store.reset(); // the CLI takes the project lock
    QStringList ids;
    for (const int64_t id : m_runs)
        ids << QString::number(id);
    QProcess cli;
    cli.start(QStringLiteral(MOE_CLI_PATH),
              {"report", "--project", projectDir(), "--runs", ids.join(','), "--out", "cli.csv",
               "--title", "From the CLI"});
    QVERIFY(cli.waitForFinished(60000));
    QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
    QVERIFY(QFile::exists(QDir(projectDir()).filePath("reports/cli.csv")));
    QVERIFY(cli.readAllStandardOutput().contains("reports/cli.csv"));

    cli.start(QStringLiteral(MOE_CLI_PATH),
              {"report", "--project", projectDir(), "--runs", "1,x", "--out", "a.html"});
    QVERIFY(cli.waitForFinished(60000));
    QCOMPARE(cli.exitCode(), 2);
    QVERIFY(cli.readAllStandardError().contains("--runs"));

    auto store = ProjectStore::open(projectDir().toStdString(), ProjectStore::OpenMode::ReadOnly);
    QVERIFY(store.isOk());
    auto recorded = (*store)->reports().list();
    QVERIFY(recorded.isOk());
    QCOMPARE(recorded->front().title, std::string("From the CLI"));
    QCOMPARE(recorded->front().format, std::string("csv"));
    QCOMPARE(recorded->front().path, std::string("reports/cli.csv"));
}

QTEST_MAIN(TestReport)
#include "test-report.moc"
