// Quality evals (moe/evals.h) against values computed here, independently, from the logits of
// Session::evaluate (the path `moestudio-cli logits` dumps) with this file's own log-softmax:
// perplexity over one window and over Hugging Face's strided windows (the loop of the
// transformers perplexity guide transliterated below), windows longer than the eval's chunk,
// KL of a model against itself (0, agreement 1) and against its Q8_0 copy, multiple choice on sets
// whose answers are the independently computed argmax (acc 1), argmin (acc 0) and length-normalized
// argmax (acc_norm 1), generation scoring, and routing shares/entropy/affinity.
#include "moe/evals.h"
#include "moe/model-factory.h"

#include <nlohmann/json.hpp>

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <fstream>

using namespace moe;

namespace {

// log p over the row, in double: row[v] - ln(sum exp(row)).
std::vector<double> logSoftmax(const float* row, int n) {
    double mx = row[0];
    for (int i = 1; i < n; ++i)
        mx = std::max(mx, double(row[i]));
    double sum = 0;
    for (int i = 0; i < n; ++i)
        sum += std::exp(double(row[i]) - mx);
    std::vector<double> out(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
        out[size_t(i)] = double(row[i]) - mx - std::log(sum);
    return out;
}

std::vector<float> logitsOf(const std::shared_ptr<const Model>& m,
                            const std::vector<int32_t>& ids) {
    SessionOptions so;
    so.nCtx = int(ids.size());
    auto s = Session::create(m, so);
    if (!s.isOk()) return {};
    auto l = (*s)->evaluate(ids, false);
    return l.isOk() ? *l : std::vector<float>{};
}

GenerationConfig genConfig(const std::string& scoring, int maxTokens,
                           std::vector<std::string> until = {}) {
    return {.scoring = scoring,
            .maxTokens = maxTokens,
            .chat = false,
            .until = std::move(until),
            .limit = 0};
}

const char* kText =
    "Mixture-of-experts models route each token to a few experts. The router picks them by score, "
    "and a load-balancing loss keeps the experts busy. 1234567890 !? The quick brown fox jumps.";

} // namespace

class TestEvals : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::shared_ptr<const Model> m_model, m_q8, m_again;
    int m_vocab = 0;

    std::string path(const char* name) const { return (m_dir.path() + "/" + name).toStdString(); }
    std::vector<int32_t> ids(const std::string& text) const {
        return m_model->tokenizer().encode(text, true);
    }

    // Sum of log p(whole[j] | whole[..j]) for j >= contextLen (a choice's continuation).
    double continuationLogLik(const std::string& question, const std::string& choice) {
        const std::vector<int32_t> whole = ids(question + " " + choice);
        const size_t ctx = ids(question).size();
        const std::vector<float> l = logitsOf(m_model, whole);
        double ll = 0;
        for (size_t j = ctx; j < whole.size(); ++j)
            ll += logSoftmax(l.data() + (j - 1) * size_t(m_vocab), m_vocab)[size_t(whole[j])];
        return ll;
    }

private slots:
    void initTestCase() {
        RandomModelOptions o;
        o.seed = 3;
        QVERIFY(writeRandomModel(o, path("m.gguf")).isOk());
        o.type = "q8_0";
        QVERIFY(writeRandomModel(o, path("q8.gguf")).isOk());
        m_model = *Model::load(path("m.gguf"));
        m_q8 = *Model::load(path("q8.gguf"));
        m_again = *Model::load(path("m.gguf"));
        m_vocab = m_model->spec().nVocab;
    }

    void perplexityOfOneWindowIsExpMeanNll() {
        const std::vector<int32_t> t = ids(kText);
        const int n = int(t.size());
        const std::vector<float> l = logitsOf(m_model, t);
        QCOMPARE(l.size(), size_t(n) * size_t(m_vocab));
        double nll = 0;
        for (int j = 1; j < n; ++j)
            nll -= logSoftmax(l.data() + size_t(j - 1) * size_t(m_vocab),
                              m_vocab)[size_t(t[size_t(j)])];
        auto r = evalPerplexityTokens(m_model, t, {.context = n, .stride = n, .addBos = true});
        QVERIFY2(r.isOk(), r.status().message().c_str());
        QCOMPARE(r->tokens, int64_t(n - 1));
        QVERIFY(std::abs(r->nllSum - nll) < 1e-9 * std::abs(nll));
        QVERIFY(std::abs(r->ppl - std::exp(nll / (n - 1))) < 1e-9 * r->ppl);
        QCOMPARE(r->ppl, std::exp(r->nllMean));
        QCOMPARE(r->tokenNll.size(), size_t(n - 1));
    }

    void windows_data() {
        QTest::addColumn<int>("n");
        QTest::addColumn<int>("context");
        QTest::addColumn<int>("stride");
        QTest::addColumn<QString>("expected"); // begin,end,scoreFrom per window
        QTest::newRow("overlapping") << 10 << 4 << 2 << "0,4,1 2,6,4 4,8,6 6,10,8";
        QTest::newRow("disjoint") << 10 << 4 << 4 << "0,4,1 4,8,5 8,10,9";
        QTest::newRow("one window") << 5 << 8 << 8 << "0,5,1";
        QTest::newRow("stride 1") << 4 << 2 << 1 << "0,2,1 1,3,2 2,4,3";
        QTest::newRow("short tail") << 11 << 6 << 3 << "0,6,1 3,9,6 6,11,9";
    }

    void windows() {
        QFETCH(int, n);
        QFETCH(int, context);
        QFETCH(int, stride);
        QFETCH(QString, expected);
        auto w = slidingWindows(n, context, stride);
        QVERIFY2(w.isOk(), w.status().message().c_str());
        QStringList got;
        std::vector<int> scored(size_t(n), 0);
        for (const EvalWindow& x : *w) {
            got << QString("%1,%2,%3").arg(x.begin).arg(x.end).arg(x.scoreFrom);
            QVERIFY(x.end - x.begin <= context);
            for (int64_t t = x.scoreFrom; t < x.end; ++t)
                ++scored[size_t(t)];
        }
        QCOMPARE(got.join(' '), expected);
        if (stride < context) // overlapping windows score every token but the first, once
            for (int t = 0; t < n; ++t)
                QCOMPARE(scored[size_t(t)], t == 0 ? 0 : 1);
    }

    void windowErrors() {
        QVERIFY(!slidingWindows(10, 1, 1).isOk());
        QVERIFY(!slidingWindows(10, 4, 5).isOk());
        QVERIFY(!slidingWindows(10, 4, 0).isOk());
        QVERIFY(!slidingWindows(1, 4, 4).isOk());
    }

    // The transformers perplexity guide's loop: windows of max_length every stride tokens, labels
    // of all but the last trg_len = end - prev_end positions set to -100, loss on shifted labels.
    void stridedPerplexityMatchesTheHuggingFaceLoop() {
        const std::vector<int32_t> t = ids(std::string(kText) + " " + kText);
        const int n = int(t.size()), maxLength = 40, stride = 16;
        double nll = 0;
        int64_t count = 0;
        int prevEnd = 0;
        for (int begin = 0; begin < n; begin += stride) {
            const int end = std::min(begin + maxLength, n), trgLen = end - prevEnd,
                      len = end - begin;
            const std::vector<int32_t> window(t.begin() + begin, t.begin() + end);
            const std::vector<float> l = logitsOf(m_model, window);
            for (int j = 1; j < len; ++j) {
                if (j < len - trgLen) continue; // label -100
                nll -= logSoftmax(l.data() + size_t(j - 1) * size_t(m_vocab),
                                  m_vocab)[size_t(window[size_t(j)])];
                ++count;
            }
            prevEnd = end;
            if (end == n) break;
        }
        auto r = evalPerplexityTokens(m_model, t,
                                      {.context = maxLength, .stride = stride, .addBos = true});
        QVERIFY2(r.isOk(), r.status().message().c_str());
        QCOMPARE(r->tokens, count);
        QCOMPARE(count, int64_t(n - 1)); // every token but the first, once
        QVERIFY2(std::abs(r->nllSum - nll) < 1e-9 * nll,
                 qPrintable(QString("%1 vs %2").arg(r->nllSum).arg(nll)));
        // Disjoint windows give the scored tokens less context: a different number.
        auto disjoint =
            evalPerplexityTokens(m_model, t, {.context = maxLength, .stride = 0, .addBos = true});
        QVERIFY(disjoint.isOk());
        // As in the Hugging Face loop, a disjoint window's first token has nothing before it in
        // the window, so it is not scored: one token fewer per window.
        QCOMPARE(disjoint->tokens, int64_t(n) - int64_t(disjoint->windows.size()));
        QVERIFY(std::abs(disjoint->nllSum - r->nllSum) > 1e-6);
    }

    void windowsLongerThanAChunk() {
        std::string text;
        while (text.size() < 700)
            text += kText;
        const std::vector<int32_t> t = ids(text.substr(0, 700));
        const int n = int(t.size());
        const std::vector<float> l = logitsOf(m_model, t);
        double nll = 0;
        for (int j = 1; j < n; ++j)
            nll -= logSoftmax(l.data() + size_t(j - 1) * size_t(m_vocab),
                              m_vocab)[size_t(t[size_t(j)])];
        auto r = evalPerplexityTokens(m_model, t, {.context = n, .stride = 0, .addBos = true});
        QVERIFY2(r.isOk(), r.status().message().c_str());
        QVERIFY2(std::abs(r->nllSum - nll) < 1e-6 * nll,
                 qPrintable(QString("%1 vs %2").arg(r->nllSum).arg(nll)));
    }

    void perplexityOfAFile() {
        { std::ofstream(path("text.txt")) << kText; }
        auto r = evalPerplexity(m_model, path("text.txt"),
                                {.context = 64, .stride = 32, .addBos = true});
        QVERIFY2(r.isOk(), r.status().message().c_str());
        auto direct = evalPerplexityTokens(m_model, ids(kText),
                                           {.context = 64, .stride = 32, .addBos = true});
        QCOMPARE(r->nllSum, direct->nllSum);
        auto missing = evalPerplexity(m_model, path("nope.txt"), {});
        QVERIFY(!missing.isOk());
        QVERIFY(missing.status().message().find("nope.txt") != std::string::npos);
        auto tooLong = evalPerplexityTokens(m_model, ids(kText),
                                            {.context = 16, .stride = 17, .addBos = true});
        QVERIFY(!tooLong.isOk());
        QVERIFY(tooLong.status().message().find("stride 17") != std::string::npos);
    }

    void klOfAModelAgainstItself() {
        const std::vector<int32_t> t = ids(kText);
        for (const auto& ref : {m_model, m_again}) { // the same object, and the file loaded twice
            auto r = evalKlTokens(m_model, ref, t, {.context = 48, .stride = 24, .addBos = true});
            QVERIFY2(r.isOk(), r.status().message().c_str());
            QCOMPARE(r->tokens, int64_t(t.size() - 1));
            QCOMPARE(r->klMean, 0.0);
            QCOMPARE(r->klMax, 0.0);
            QCOMPARE(r->top1Agreement, 1.0);
            QCOMPARE(r->pplModel, r->pplReference);
        }
    }

    void klAgainstTheQ8Copy() {
        const std::vector<int32_t> t = ids(kText);
        const int n = int(t.size());
        const std::vector<float> lm = logitsOf(m_q8, t), lr = logitsOf(m_model, t);
        std::vector<double> kls;
        int agree = 0;
        for (int j = 0; j + 1 < n; ++j) {
            const std::vector<double> pr =
                logSoftmax(lr.data() + size_t(j) * size_t(m_vocab), m_vocab);
            const std::vector<double> pm =
                logSoftmax(lm.data() + size_t(j) * size_t(m_vocab), m_vocab);
            double kl = 0;
            for (int v = 0; v < m_vocab; ++v)
                kl += std::exp(pr[size_t(v)]) * (pr[size_t(v)] - pm[size_t(v)]);
            kls.push_back(kl);
            agree += std::max_element(pr.begin(), pr.end()) - pr.begin() ==
                     std::max_element(pm.begin(), pm.end()) - pm.begin();
        }
        double mean = 0;
        for (double k : kls)
            mean += k / double(kls.size());
        std::sort(kls.begin(), kls.end());
        const double pos = 0.95 * double(kls.size() - 1); // numpy.percentile, linear
        const double p95 =
            kls[size_t(pos)] + (kls[std::min(size_t(pos) + 1, kls.size() - 1)] - kls[size_t(pos)]) *
                                   (pos - std::floor(pos));
        auto r = evalKlTokens(m_q8, m_model, t, {.context = n, .stride = 0, .addBos = true});
        QVERIFY2(r.isOk(), r.status().message().c_str());
        QVERIFY(mean > 0);
        QVERIFY2(std::abs(r->klMean - mean) < 1e-6 * mean + 1e-12,
                 qPrintable(QString("%1 vs %2").arg(r->klMean).arg(mean)));
        QVERIFY(std::abs(r->klP95 - p95) < 1e-5 * p95 + 1e-9);
        QCOMPARE(r->top1Agreement, double(agree) / double(n - 1));
    }

    void choiceScoresAreTheContinuationLogLikelihoods() {
        const std::vector<std::pair<std::string, std::vector<std::string>>> set = {
            {"The capital of France is", {"Paris", "a large teapot", "blue"}},
            {"Two plus two equals", {"four", "5", "twenty-two", "fish"}},
            {"Water boils at", {"100 degrees", "noon"}},
            {"Experts in a MoE layer are", {"feed-forward networks", "people", "x"}}};
        std::vector<ChoiceItem> best, worst, bestNorm;
        std::vector<std::vector<double>> expected;
        for (const auto& [q, choices] : set) {
            std::vector<double> ll, norm;
            for (const std::string& c : choices) {
                ll.push_back(continuationLogLik(q, c));
                norm.push_back(ll.back() / double(c.size())); // ASCII: characters = bytes
            }
            expected.push_back(ll);
            const int hi = int(std::max_element(ll.begin(), ll.end()) - ll.begin());
            const int lo = int(std::min_element(ll.begin(), ll.end()) - ll.begin());
            QVERIFY(hi != lo);
            best.push_back({.question = q, .choices = choices, .answer = hi, .line = 0});
            worst.push_back({.question = q, .choices = choices, .answer = lo, .line = 0});
            bestNorm.push_back(
                {.question = q,
                 .choices = choices,
                 .answer = int(std::max_element(norm.begin(), norm.end()) - norm.begin()),
                 .line = 0});
        }
        auto b = evalChoiceItems(m_model, best, {});
        QVERIFY2(b.isOk(), b.status().message().c_str());
        QCOMPARE(b->items, int64_t(4));
        QCOMPARE(b->acc, 1.0);
        for (size_t i = 0; i < expected.size(); ++i)
            for (size_t c = 0; c < expected[i].size(); ++c)
                QVERIFY(std::abs(b->perItem[i].logLikelihoods[c] - expected[i][c]) <
                        1e-9 * std::abs(expected[i][c]));
        auto w = evalChoiceItems(m_model, worst, {});
        QCOMPARE(w->acc, 0.0);
        QCOMPARE(w->accStderr, 0.0);
        auto n = evalChoiceItems(m_model, bestNorm, {});
        QCOMPARE(n->accNorm, 1.0);
        // Half right: acc 0.5, stderr sqrt(var_sample / n) = sqrt((4 * 0.25 / 3) / 4).
        std::vector<ChoiceItem> half = {best[0], best[1], worst[2], worst[3]};
        auto h = evalChoiceItems(m_model, half, {});
        QCOMPARE(h->acc, 0.5);
        QVERIFY(std::abs(h->accStderr - std::sqrt(1.0 / 3.0) / 2.0) < 1e-12);
        auto limited = evalChoiceItems(m_model, half, {.delimiter = " ", .limit = 2});
        QCOMPARE(limited->items, int64_t(2));
        QCOMPARE(limited->acc, 1.0);

        // The same set from JSONL with letter answers, and its lm-eval results JSON.
        {
            std::ofstream f(path("mc.jsonl"));
            for (const ChoiceItem& it : best)
                f << nlohmann::json({{"question", it.question},
                                     {"choices", it.choices},
                                     {"answer", std::string(1, char('A' + it.answer))}})
                         .dump()
                  << "\n\n";
        }
        auto fromFile = evalChoice(m_model, path("mc.jsonl"), {});
        QVERIFY2(fromFile.isOk(), fromFile.status().message().c_str());
        QCOMPARE(fromFile->acc, 1.0);
        const auto j = nlohmann::json::parse(
            choiceResultsJson(*fromFile, "mc", path("mc.jsonl"), path("m.gguf"), "cpu"));
        QCOMPARE(j["results"]["mc"]["acc,none"].get<double>(), 1.0);
        QVERIFY(j["results"]["mc"].contains("acc_norm_stderr,none"));
        QCOMPARE(j["configs"]["mc"]["output_type"].get<std::string>(),
                 std::string("multiple_choice"));
        QCOMPARE(j["n-samples"]["mc"]["effective"].get<int>(), 4);
    }

    void choiceFileErrors_data() {
        QTest::addColumn<QByteArray>("jsonl");
        QTest::addColumn<QString>("problem");
        QTest::newRow("not json")
            << QByteArray("{\"question\":\"q\",\"choices\":[\"a\",\"b\"],\"answer\":0}\n{oops\n")
            << ":2: not valid JSON";
        QTest::newRow("one choice")
            << QByteArray("{\"question\":\"q\",\"choices\":[\"a\"],\"answer\":0}\n")
            << ":1: \"choices\"";
        QTest::newRow("answer range")
            << QByteArray("{\"question\":\"q\",\"choices\":[\"a\",\"b\"],\"answer\":\"C\"}\n")
            << "not one of the 2 choices";
        QTest::newRow("no answer") << QByteArray("{\"question\":\"q\",\"choices\":[\"a\",\"b\"]}\n")
                                   << "\"answer\" is missing";
        QTest::newRow("empty") << QByteArray("\n\n") << "no items";
    }

    void choiceFileErrors() {
        QFETCH(QByteArray, jsonl);
        QFETCH(QString, problem);
        QFile f(m_dir.path() + "/bad.jsonl");
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(jsonl);
        f.close();
        auto r = readChoiceItems(path("bad.jsonl"));
        QVERIFY(!r.isOk());
        QVERIFY2(QString::fromStdString(r.status().message()).contains(problem),
                 r.status().message().c_str());
        QVERIFY(r.status().message().find("bad.jsonl") != std::string::npos);
    }

    void generationScoring_data() {
        QTest::addColumn<QString>("scoring");
        QTest::addColumn<QString>("output");
        QTest::addColumn<QString>("answer");
        QTest::addColumn<bool>("correct");
        QTest::newRow("exact stripped") << "exact_match"
                                        << "  42\n"
                                        << "42 " << true;
        QTest::newRow("exact differs") << "exact_match"
                                       << "42."
                                       << "42" << false;
        QTest::newRow("contains") << "contains"
                                  << "The answer is 42."
                                  << " 42" << true;
        QTest::newRow("contains not") << "contains"
                                      << "The answer is 41."
                                      << "42" << false;
        QTest::newRow("regex") << "regex"
                               << "answer: 42"
                               << "answer:\\s*4\\d" << true;
        QTest::newRow("regex not") << "regex"
                                   << "answer: 52"
                                   << "^4" << false;
    }

    void generationScoring() {
        QFETCH(QString, scoring);
        QFETCH(QString, output);
        QFETCH(QString, answer);
        QFETCH(bool, correct);
        auto r = scoreGeneration(scoring.toStdString(), output.toStdString(), answer.toStdString());
        QVERIFY(r.isOk());
        QCOMPARE(*r, correct);
    }

    void generationAgainstTheGreedyReply() {
        auto s = Session::create(m_model);
        SamplingParams greedy;
        greedy.temperature = 0;
        greedy.maxTokens = 12;
        auto reply = (*s)->generateText("Count: 1 2 3", greedy, {});
        QVERIFY(reply.isOk() && !reply->text.empty());
        const std::string text = reply->text;
        const std::vector<GenerationItem> items = {
            {.prompt = "Count: 1 2 3", .answer = text, .line = 1},
            {.prompt = "Count: 1 2 3", .answer = "not the reply", .line = 2}};
        auto r = evalGenerationItems(m_model, items, genConfig("exact_match", 12));
        QVERIFY2(r.isOk(), r.status().message().c_str());
        QCOMPARE(r->perItem[0].output, text);
        QVERIFY(r->perItem[0].correct);
        QVERIFY(!r->perItem[1].correct);
        QCOMPARE(r->score, 0.5);
        // A stop string cuts the reply before it: the reply's first byte leaves nothing.
        auto cut = evalGenerationItems(m_model, std::vector<GenerationItem>{items[0]},
                                       genConfig("exact_match", 12, {text.substr(0, 1)}));
        QVERIFY(cut.isOk());
        QCOMPARE(cut->perItem[0].output, std::string());
        auto bad = evalGenerationItems(
            m_model, std::vector<GenerationItem>{{.prompt = "x", .answer = "(", .line = 7}},
            genConfig("regex", 2));
        QVERIFY(!bad.isOk());
        QVERIFY(bad.status().message().find("line 7") != std::string::npos);
        auto unknown = evalGenerationItems(m_model, items, genConfig("fuzzy", 4));
        QVERIFY(!unknown.isOk());
    }

    void routingSharesEntropyAndAffinity() {
        {
            std::ofstream(path("code.txt"))
                << "def f(x):\n    return x * 2\nfor i in range(10): print(f(i))\n";
            std::ofstream(path("legal.txt"))
                << "The party of the first part shall indemnify the party of the second part.";
        }
        const std::vector<RoutingDomain> domains = {{.name = "code", .file = path("code.txt")},
                                                    {.name = "legal", .file = path("legal.txt")}};
        auto r = analyzeRouting(m_model, domains, {.context = 32});
        QVERIFY2(r.isOk(), r.status().message().c_str());
        QCOMPARE(r->nLayer, m_model->spec().nLayer);
        QCOMPARE(r->nExpert, m_model->spec().nExpert);
        // Independently: the same chunks through a session of our own, counts to shares.
        SessionOptions so;
        so.nCtx = 32;
        so.collectRouting = true;
        auto s = Session::create(m_model, so);
        double entropyMean = 0;
        std::vector<int64_t> pooled(size_t(r->nLayer) * size_t(r->nExpert), 0);
        for (const RoutingDomain& d : domains) {
            std::ifstream f(d.file);
            const std::string text((std::istreambuf_iterator<char>(f)),
                                   std::istreambuf_iterator<char>());
            const std::vector<int32_t> t = ids(text);
            for (size_t at = 0; at < t.size(); at += 32) {
                (*s)->reset();
                QVERIFY((*s)->evaluate(std::vector<int32_t>(
                                           t.begin() + ptrdiff_t(at),
                                           t.begin() + ptrdiff_t(std::min(at + 32, t.size()))),
                                       true)
                            .isOk());
            }
        }
        const RoutingStats st = (*s)->routingStats();
        QCOMPARE(r->tokens, st.tokensSeen);
        for (int il = 0; il < r->nLayer; ++il) {
            double total = 0, h = 0, sum = 0;
            for (int e = 0; e < r->nExpert; ++e)
                total += double(st.tokens[size_t(il * r->nExpert + e)]);
            for (int e = 0; e < r->nExpert; ++e) {
                const double p = double(st.tokens[size_t(il * r->nExpert + e)]) / total;
                if (p > 0) h -= p * std::log(p);
                QVERIFY(std::abs(r->share[size_t(il * r->nExpert + e)] - p) < 1e-12);
                sum += r->share[size_t(il * r->nExpert + e)];
            }
            QVERIFY(std::abs(sum - 1.0) < 1e-12);
            QVERIFY(std::abs(r->entropy[size_t(il)] - h / std::log(double(r->nExpert))) < 1e-12);
            entropyMean += h / std::log(double(r->nExpert)) / r->nLayer;
        }
        QVERIFY(std::abs(r->entropyMean - entropyMean) < 1e-12);
        QVERIFY(r->entropyMean > 0 && r->entropyMean <= 1);
        // Affinity: share over the domains' mean share, so the domains' affinities average 1.
        for (size_t i = 0; i < r->share.size(); ++i) {
            const double mean = (r->domains[0].share[i] + r->domains[1].share[i]) / 2;
            if (mean == 0) continue;
            QVERIFY(std::abs((r->domains[0].affinity[i] + r->domains[1].affinity[i]) / 2 - 1.0) <
                    1e-12);
            QVERIFY(std::abs(r->domains[0].affinity[i] - r->domains[0].share[i] / mean) < 1e-12);
        }
        // One text under two names: every affinity is 1.
        auto same =
            analyzeRouting(m_model,
                           std::vector<RoutingDomain>{{.name = "a", .file = path("code.txt")},
                                                      {.name = "b", .file = path("code.txt")}},
                           {.context = 32});
        QVERIFY(same.isOk());
        for (size_t i = 0; i < same->share.size(); ++i)
            if (same->share[i] > 0) QCOMPARE(same->domains[1].affinity[i], 1.0);
    }

    void cancelStops() {
        int calls = 0;
        auto r = evalPerplexityTokens(
            m_model, ids(kText), {.context = 16, .stride = 8, .addBos = true}, {},
            [&](const std::string&, int64_t, int64_t) { return ++calls < 3; });
        QVERIFY(!r.isOk());
        QCOMPARE(r.status().code(), StatusCode::Cancelled);
        QCOMPARE(calls, 3);
    }
};

QTEST_GUILESS_MAIN(TestEvals)
#include "test-evals.moc"
