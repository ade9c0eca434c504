// SpmTokenizer against the reference: the sentencepiece library (libsentencepiece) processing the
// .model file that this test trains itself with SentencePieceTrainer (BPE and unigram, byte
// fallback, control and user-defined symbols) on a generated corpus in a QTemporaryDir. The
// vocabulary is then written into a GGUF the way llama.cpp's convert_hf_to_gguf.py writes it
// (_create_vocab_sentencepiece: IdToPiece / GetScore / IsUnknown / IsControl / IsUnused / IsByte,
// added tokens as USER_DEFINED, [PAD<id>] UNUSED fillers up to the model's vocab size; T5's
// set_vocab for unigram: model "t5", add_space_prefix, remove_extra_whitespaces,
// precompiled_charsmap), and SpmTokenizer::fromGguf must give the reference's ids on a mixed
// corpus. To remake the goldens, rerun the test: they are recomputed from the trained model.
//
// Text that spells out a control token ("<s>", "<|im_start|>") is cut at those strings; each
// piece between them is encoded by the reference processor on its own (llama.cpp's SPM rule,
// model-formats.md §10.4), and the control ids are put in between.
#include "formats/gguf/gguf-reader.h"
#include "formats/gguf/gguf-writer.h"
#include "tokenizers/byte-tokenizer.h"
#include "tokenizers/spm-tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <fstream>
#include <map>
#include <unordered_map>

using namespace moe;

namespace {

const std::vector<std::string> kControlSymbols = {"<|im_start|>", "<|im_end|>"};
const std::vector<std::string> kUserSymbols = {"<tool>"};
constexpr int kPadFillers = 3; // model vocab rows beyond the tokenizer, as converters pad them

// The mixed corpus the ids are compared on.
const std::vector<std::string> kTexts = {
    "Hello world",
    "the quick brown fox jumps over the lazy dog",
    "  two leading spaces",
    "trailing spaces   ",
    "multiple     inner      spaces",
    "tabs\tand\nnewlines\n\nand\r\nCRLF",
    "\n\nleading newlines",
    "digits 1234567890 and 3.14159 and 2024-06-01",
    "日本語のテキストと中文的句子",
    "emoji \xF0\x9F\x98\x80\xF0\x9F\x8E\x89 and a family "
    "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7",
    "Ethiopic \xE1\x88\xB0\xE1\x88\x8B\xE1\x88\x9D never seen in training",
    "caf\xC3\xA9 na\xC3\xAFve \xC3\x85ngstr\xC3\xB6m",
    "full-width \xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3 and the \xEF\xAC\x81 ligature",
    "<s>hello</s> world",
    "<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|><|im_end|>",
    "x<tool>call(42)</tool>",
    "<unk> is not matched",
    "a",
    " ",
    "",
};

// Whether text is made of whole, valid UTF-8 characters.
bool isWholeUtf8(const std::string& s) {
    const QByteArray bytes = QByteArray::fromStdString(s);
    return QString::fromUtf8(bytes).toUtf8() == bytes;
}

std::string show(const std::vector<int32_t>& ids) {
    std::string out;
    for (int32_t id : ids) {
        if (!out.empty()) out.push_back(' ');
        out.append(std::to_string(id));
    }
    return "[" + out + "]";
}

// Deterministic training text: words, numbers, CJK and punctuation in varying runs.
std::string makeCorpus() {
    const std::vector<std::string> words = {
        "the",    "quick",     "brown",     "fox",      "jumps",  "over",    "lazy",
        "dog",    "hello",     "world",     "model",    "expert", "mixture", "router",
        "token",  "layer",     "attention", "training", "data",   "there",   "spaces",
        "and",    "leading",   "trailing",  "newlines", "café",   "naïve",   "Ångström",
        "日本語", "テキスト",  "中文",      "句子",     "的",     "と",      "の",
        "user",   "assistant", "call",      "tabs",     "digits"};
    std::string corpus;
    uint64_t state = 0x9E3779B97F4A7C15ull;
    auto next = [&](uint64_t mod) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return (state >> 33) % mod;
    };
    for (int line = 0; line < 4000; ++line) {
        const uint64_t nWords = 3 + next(12);
        for (uint64_t w = 0; w < nWords; ++w) {
            if (w) corpus += next(10) == 0 ? "  " : " ";
            if (next(7) == 0)
                corpus += std::to_string(next(100000));
            else
                corpus += words[next(words.size())];
        }
        corpus += next(3) == 0 ? ".\n" : "\n";
    }
    return corpus;
}

// Field 3 (normalizer_spec) -> field 2 (precompiled_charsmap) of a serialized ModelProto, read
// with a minimal protobuf decoder, as llama.cpp's converter reads it with sentencepiece_model_pb2.
std::string precompiledCharsmap(const std::string& proto) {
    auto varint = [](const std::string& s, size_t& p) {
        uint64_t v = 0;
        for (int shift = 0; p < s.size(); shift += 7) {
            const auto b = uint8_t(s[p++]);
            v |= uint64_t(b & 0x7F) << shift;
            if (!(b & 0x80)) break;
        }
        return v;
    };
    auto findField = [&](const std::string& s, uint64_t wanted) -> std::string {
        size_t p = 0;
        while (p < s.size()) {
            const uint64_t tag = varint(s, p);
            const uint64_t wire = tag & 7;
            if (wire == 0)
                varint(s, p);
            else if (wire == 1)
                p += 8;
            else if (wire == 5)
                p += 4;
            else if (wire == 2) {
                const uint64_t n = varint(s, p);
                if ((tag >> 3) == wanted) return s.substr(p, size_t(n));
                p += size_t(n);
            } else
                return {};
        }
        return {};
    };
    return findField(findField(proto, 3), 2);
}

struct Trained {
    std::string modelPath;
    std::string ggufPath;
    sentencepiece::SentencePieceProcessor sp; // the reference
};

} // namespace

class TestSpmTokenizer : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::map<QString, std::unique_ptr<Trained>> m_models;

    // Trains one model and writes its GGUF; name is also the data-row tag.
    void train(const QString& name, const char* modelType, const char* normalizer, bool addBos,
               bool addEos) {
        auto t = std::make_unique<Trained>();
        const std::string prefix = (m_dir.path() + "/" + name).toStdString();
        std::string controls, users;
        for (const auto& s : kControlSymbols)
            controls += (controls.empty() ? "" : ",") + s;
        for (const auto& s : kUserSymbols)
            users += (users.empty() ? "" : ",") + s;
        const std::unordered_map<std::string, std::string> args = {
            {"input", (m_dir.path() + "/corpus.txt").toStdString()},
            {"model_prefix", prefix},
            {"model_type", modelType},
            {"vocab_size", "500"},
            {"hard_vocab_limit", "false"},
            {"byte_fallback", "true"},
            {"character_coverage", "0.9995"},
            {"normalization_rule_name", normalizer},
            {"remove_extra_whitespaces", std::string(normalizer) == "identity" ? "false" : "true"},
            {"split_digits", "true"},
            {"control_symbols", controls},
            {"user_defined_symbols", users},
            {"num_threads", "1"},
            {"minloglevel", "2"},
        };
        const auto st = sentencepiece::SentencePieceTrainer::Train(args);
        QVERIFY2(st.ok(), st.ToString().c_str());
        t->modelPath = prefix + ".model";
        QVERIFY(t->sp.Load(t->modelPath).ok());
        t->ggufPath = prefix + ".gguf";
        writeGguf(*t, std::string(modelType) == "unigram", addBos, addEos);
        m_models[name] = std::move(t);
    }

    // The converter's view of the vocabulary (see the file head).
    static void writeGguf(const Trained& t, bool unigram, bool addBos, bool addEos) {
        const auto& sp = t.sp;
        const int n = sp.GetPieceSize();
        std::vector<std::string> tokens;
        std::vector<float> scores;
        std::vector<int32_t> types;
        for (int id = 0; id < n + kPadFillers; ++id) {
            if (id >= n) {
                tokens.push_back("[PAD" + std::to_string(id) + "]");
                scores.push_back(-10000.0f);
                types.push_back(int32_t(TokenType::Unused));
                continue;
            }
            tokens.push_back(sp.IdToPiece(id));
            scores.push_back(sp.GetScore(id));
            TokenType type = TokenType::Normal;
            if (sp.IsUnknown(id))
                type = TokenType::Unknown;
            else if (sp.IsControl(id))
                type = TokenType::Control;
            else if (sp.IsUnused(id))
                type = TokenType::Unused;
            else if (sp.IsByte(id))
                type = TokenType::Byte;
            for (const auto& u : kUserSymbols)
                if (tokens.back() == u) type = TokenType::UserDefined; // added_tokens.json
            types.push_back(int32_t(type));
        }
        gguf::GgufWriter w;
        w.addString("general.architecture", "llama");
        w.addString("tokenizer.ggml.model", unigram ? "t5" : "llama");
        w.addString("tokenizer.ggml.pre", "default");
        w.addStringArray("tokenizer.ggml.tokens", tokens);
        w.addFloat32Array("tokenizer.ggml.scores", scores);
        w.addInt32Array("tokenizer.ggml.token_type", types);
        w.addUInt32("tokenizer.ggml.bos_token_id", uint32_t(sp.bos_id()));
        w.addUInt32("tokenizer.ggml.eos_token_id", uint32_t(sp.eos_id()));
        w.addUInt32("tokenizer.ggml.unknown_token_id", uint32_t(sp.unk_id()));
        w.addBool("tokenizer.ggml.add_bos_token", addBos);
        w.addBool("tokenizer.ggml.add_eos_token", addEos);
        if (unigram) {
            const std::string charsmap = precompiledCharsmap(sp.serialized_model_proto());
            gguf::MetaValue arr;
            arr.type = gguf::ValueType::Array;
            arr.elemType = gguf::ValueType::UInt8;
            for (char c : charsmap) {
                gguf::MetaValue b;
                b.type = gguf::ValueType::UInt8;
                b.u = uint8_t(c);
                arr.items.push_back(b);
            }
            w.addBool("tokenizer.ggml.add_space_prefix", true);
            w.addBool("tokenizer.ggml.remove_extra_whitespaces", !charsmap.empty());
            w.addValue("tokenizer.ggml.precompiled_charsmap", std::move(arr));
        }
        QVERIFY(w.write(t.ggufPath).isOk());
    }

    // Reference ids: the text cut at control-symbol strings, each piece encoded by sentencepiece.
    static std::vector<int32_t> referenceIds(const sentencepiece::SentencePieceProcessor& sp,
                                             const std::string& text, bool addBos, bool addEos) {
        std::vector<int32_t> ids;
        if (addBos) ids.push_back(sp.bos_id());
        size_t start = 0;
        auto flush = [&](size_t end) {
            if (end > start)
                for (int id : sp.EncodeAsIds(text.substr(start, end - start)))
                    ids.push_back(id);
        };
        for (size_t i = 0; i < text.size();) {
            std::string hit;
            for (int id = 0; id < sp.GetPieceSize(); ++id)
                if (sp.IsControl(id) &&
                    text.compare(i, sp.IdToPiece(id).size(), sp.IdToPiece(id)) == 0 &&
                    sp.IdToPiece(id).size() > hit.size())
                    hit = sp.IdToPiece(id);
            if (hit.empty()) {
                ++i;
                continue;
            }
            flush(i);
            ids.push_back(sp.PieceToId(hit));
            i += hit.size();
            start = i;
        }
        flush(text.size());
        if (addEos) ids.push_back(sp.eos_id());
        return ids;
    }

    static bool hasControlText(const std::string& text) {
        for (const char* s : {"<s>", "</s>", "<|im_start|>", "<|im_end|>"})
            if (text.find(s) != std::string::npos) return true;
        return false;
    }

    Trained& model() { return *m_models.at(QString::fromLatin1(QTest::currentDataTag())); }

    void modelRows() {
        QTest::addColumn<bool>("addBos");
        QTest::addColumn<bool>("addEos");
        QTest::newRow("bpe-identity") << true << false; // Llama 2 / Mixtral settings
        QTest::newRow("unigram-identity") << true << true;
        QTest::newRow("unigram-nfkc") << false << true; // T5-like, precompiled charsmap
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        std::ofstream(m_dir.filePath("corpus.txt").toStdString(), std::ios::binary) << makeCorpus();
        train("bpe-identity", "bpe", "identity", true, false);
        train("unigram-identity", "unigram", "identity", true, true);
        train("unigram-nfkc", "unigram", "nmt_nfkc", false, true);
    }

    void modelFileMatchesProcessor_data() { modelRows(); }
    void modelFileMatchesProcessor() {
        Trained& t = model();
        auto tok = SpmTokenizer::fromModelFile(t.modelPath);
        QVERIFY2(tok.isOk(), tok.status().toString().c_str());
        QCOMPARE((*tok)->vocabSize(), t.sp.GetPieceSize());
        QCOMPARE((*tok)->bosId(), t.sp.bos_id());
        QCOMPARE((*tok)->eosId(), t.sp.eos_id());
        for (const std::string& text : kTexts) {
            const auto want = referenceIds(t.sp, text, true, false);
            QCOMPARE(show((*tok)->encode(text, true)), show(want));
        }
    }

    void ggufMatchesProcessor_data() { modelRows(); }
    void ggufMatchesProcessor() {
        QFETCH(bool, addBos);
        QFETCH(bool, addEos);
        Trained& t = model();
        auto file = gguf::GgufFile::open(t.ggufPath);
        QVERIFY2(file.isOk(), file.status().toString().c_str());
        auto tok = SpmTokenizer::fromGguf(*file);
        QVERIFY2(tok.isOk(), tok.status().toString().c_str());
        const SpmTokenizer& spm = **tok;
        QCOMPARE(spm.vocabSize(), t.sp.GetPieceSize() + kPadFillers);
        QCOMPARE(spm.bosId(), t.sp.bos_id());
        QCOMPARE(spm.eosId(), t.sp.eos_id());
        for (int id = 0; id < t.sp.GetPieceSize(); ++id) {
            QCOMPARE(spm.tokenName(id), t.sp.IdToPiece(id));
            QCOMPARE(spm.isControl(id), t.sp.IsControl(id));
        }
        int compared = 0, fallbacks = 0;
        for (const std::string& text : kTexts) {
            for (bool special : {false, true}) {
                const auto got = spm.encode(text, special);
                const auto want = referenceIds(t.sp, text, special && addBos, special && addEos);
                QVERIFY2(show(got) == show(want),
                         (text + "\n got  " + show(got) + "\n want " + show(want)).c_str());
                ++compared;
                for (int32_t id : got)
                    fallbacks += t.sp.IsByte(id) ? 1 : 0;
            }
            if (!hasControlText(text)) // no cutting needed: straight sentencepiece ids
                QCOMPARE(show(spm.encode(text, false)),
                         show(referenceIds(t.sp, text, false, false)));
        }
        QCOMPARE(compared, int(kTexts.size()) * 2);
        QVERIFY2(fallbacks > 0, "the corpus must exercise byte fallback (emoji, Ethiopic)");
    }

    // Decoding: bytes of the pieces equal sentencepiece's DecodeIds plus the dummy-prefix space
    // it strips; identity models give the input back.
    void detokenizeRoundTrip_data() { modelRows(); }
    void detokenizeRoundTrip() {
        Trained& t = model();
        auto file = gguf::GgufFile::open(t.ggufPath);
        QVERIFY(file.isOk());
        auto tok = SpmTokenizer::fromGguf(*file);
        QVERIFY(tok.isOk());
        const bool identity = precompiledCharsmap(t.sp.serialized_model_proto()).empty();
        for (const std::string& text : kTexts) {
            if (text.empty() || hasControlText(text)) continue;
            const auto ids = (*tok)->encode(text, true);
            const std::string got = (*tok)->decode(ids);
            std::vector<int> plain(ids.begin(), ids.end());
            bool anyText = false; // nfkc drops a lone " " entirely: no dummy prefix then
            for (int32_t id : ids)
                anyText = anyText || !(*tok)->isControl(id);
            std::string want = anyText ? " " : "";
            want.append(t.sp.DecodeIds(plain));
            QVERIFY2(got == want, (text + "\n got  '" + got + "'\n want '" + want + "'").c_str());
            if (identity) QCOMPARE(got, " " + text);
        }
    }

    // Streaming: token bytes pushed one at a time never yield half a character, and the chunks
    // add up to the full decode.
    void streamingDecodeKeepsCharactersWhole_data() { modelRows(); }
    void streamingDecodeKeepsCharactersWhole() {
        Trained& t = model();
        auto file = gguf::GgufFile::open(t.ggufPath);
        QVERIFY(file.isOk());
        auto tok = SpmTokenizer::fromGguf(*file);
        QVERIFY(tok.isOk());
        int heldBack = 0;
        for (const std::string& text : kTexts) {
            const auto ids = (*tok)->encode(text, true);
            TextStreamer streamer;
            std::string streamed;
            for (int32_t id : ids) {
                const std::string bytes = (*tok)->tokenBytes(id);
                const std::string chunk = streamer.push(bytes);
                QVERIFY2(isWholeUtf8(chunk),
                         ("half a character after id " + std::to_string(id)).c_str());
                if (!bytes.empty() && chunk.empty()) ++heldBack;
                streamed += chunk;
            }
            QCOMPARE(streamer.flush(), std::string());
            QCOMPARE(streamed, (*tok)->decode(ids));
            QVERIFY(streamed.find("\xEF\xBF\xBD") == std::string::npos);
        }
        QVERIFY2(heldBack > 0, "byte-fallback pieces must have been held back at least once");
    }

    void tokenBytesOfPieces() {
        Trained& t = *m_models.at("bpe-identity");
        auto tok = SpmTokenizer::fromModelFile(t.modelPath);
        QVERIFY(tok.isOk());
        const int nl = t.sp.PieceToId("<0x0A>");
        QVERIFY(t.sp.IsByte(nl));
        QCOMPARE((*tok)->tokenBytes(nl), std::string("\n"));
        QCOMPARE((*tok)->tokenBytes(t.sp.bos_id()), std::string());
        const int word = t.sp.PieceToId("\xE2\x96\x81the");
        QVERIFY(word != t.sp.unk_id());
        QCOMPARE((*tok)->tokenBytes(word), std::string(" the"));
        QCOMPARE((*tok)->tokenBytes(-1), std::string());
        QCOMPARE((*tok)->tokenBytes((*tok)->vocabSize()), std::string());
    }

    void malformedGgufVocabularies_data() {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("expected");
        QTest::newRow("model gpt2") << "tokenizer.ggml.model"
                                    << "expected 'llama' or 't5'";
        QTest::newRow("short token_type") << "tokenizer.ggml.token_type"
                                          << "one per token";
        QTest::newRow("bad type value") << "type99"
                                        << "token_type[5] is 99, expected 1..6";
        QTest::newRow("two unknown") << "unk2"
                                     << "both of type UNKNOWN";
        QTest::newRow("bos out of range") << "tokenizer.ggml.bos_token_id"
                                          << "outside the vocabulary";
        QTest::newRow("duplicate piece") << "dup"
                                         << "sentencepiece rejects the model";
    }
    void malformedGgufVocabularies() {
        QFETCH(QString, key);
        QFETCH(QString, expected);
        std::vector<std::string> tokens = {"<unk>",
                                           "<s>",
                                           "</s>",
                                           "\xE2\x96\x81"
                                           "a",
                                           "b",
                                           "c"};
        std::vector<int32_t> types = {2, 3, 3, 1, 1, 1};
        std::vector<float> scores = {0, 0, 0, -1, -2, -3};
        gguf::GgufWriter w;
        w.addString("tokenizer.ggml.model", key == "tokenizer.ggml.model" ? "gpt2" : "llama");
        if (key == "tokenizer.ggml.token_type") types.pop_back();
        if (key == "type99") types[5] = 99;
        if (key == "unk2") types[4] = 2;
        if (key == "dup") tokens[5] = tokens[4];
        if (key == "tokenizer.ggml.bos_token_id") w.addUInt32("tokenizer.ggml.bos_token_id", 6);
        w.addStringArray("tokenizer.ggml.tokens", tokens);
        w.addFloat32Array("tokenizer.ggml.scores", scores);
        w.addInt32Array("tokenizer.ggml.token_type", types);
        QTemporaryDir dir;
        const std::string path = dir.filePath("bad.gguf").toStdString();
        QVERIFY(w.write(path).isOk());
        auto file = gguf::GgufFile::open(path);
        QVERIFY(file.isOk());
        auto tok = SpmTokenizer::fromGguf(*file);
        QVERIFY(!tok.isOk());
        const QString msg = QString::fromStdString(tok.status().message());
        QVERIFY2(msg.contains(expected) && msg.contains("bad.gguf"), qPrintable(msg));
    }

    // moe::loadTokenizer routes *.model files, folders holding only tokenizer.model, and GGUF
    // "llama"/"t5" vocabularies here.
    void factoryRoutesSentencePiece_data() { modelRows(); }
    void factoryRoutesSentencePiece() {
        Trained& t = model();
        QTemporaryDir folder;
        QVERIFY(
            QFile::copy(QString::fromStdString(t.modelPath), folder.filePath("tokenizer.model")));
        const std::string text = "Hello world, \xE6\x97\xA5\xE6\x9C\xAC <|im_start|>user";
        const std::string want = show(referenceIds(t.sp, text, false, false));
        for (const std::string& path : {t.modelPath, folder.path().toStdString(), t.ggufPath}) {
            auto tok = loadTokenizer(path);
            QVERIFY2(tok.isOk(), tok.status().toString().c_str());
            QVERIFY(dynamic_cast<const SpmTokenizer*>(tok->get()) != nullptr);
            QCOMPARE(show((*tok)->encode(text, false)), want);
        }
    }

    void missingModelFile() {
        auto tok = SpmTokenizer::fromModelFile("/nonexistent/tokenizer.model");
        QVERIFY(!tok.isOk());
        QCOMPARE(tok.status().code(), StatusCode::NotFound);
    }
};

QTEST_GUILESS_MAIN(TestSpmTokenizer)
#include "test-spm-tokenizer.moc"
