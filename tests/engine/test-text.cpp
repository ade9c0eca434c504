// Text plumbing: the streaming UTF-8 assembler, the byte tokenizer, half/bfloat16 conversions.
#include "core/half.h"
#include "formats/gguf/gguf-reader.h"
#include "moe/model-factory.h"
#include "moe/model.h"
#include "moe/tokenizer.h"

#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace moe;

class TestText : public QObject {
    Q_OBJECT

private slots:
    void streamerHoldsPartialCharacters() {
        TextStreamer s;
        const std::string euro = "\xE2\x82\xAC"; // €
        QCOMPARE(s.push(euro.substr(0, 1)), std::string());
        QCOMPARE(s.push(euro.substr(1, 1)), std::string());
        QCOMPARE(s.push(euro.substr(2, 1)), euro);
        const std::string emoji = "\xF0\x9F\x98\x80";
        QCOMPARE(s.push("a\xF0\x9F"), std::string("a"));
        QCOMPARE(s.push(emoji.substr(2)), emoji);
        QCOMPARE(s.flush(), std::string());
    }

    void streamerReplacesInvalidBytes() {
        TextStreamer s;
        QCOMPARE(s.push("\xFF" "b"), std::string("\xEF\xBF\xBD" "b"));
        QCOMPARE(s.push("\xC3\x28"), std::string("\xEF\xBF\xBD("));    // bad continuation
        QCOMPARE(s.push("\xED\xA0\x80"), std::string("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD")); // surrogate
        QCOMPARE(s.push("\xE2\x82"), std::string());
        QCOMPARE(s.flush(), std::string("\xEF\xBF\xBD")); // incomplete tail at the end
    }

    void byteTokenizerRoundTrip() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/m.gguf").toStdString();
        QVERIFY(writeRandomModel({}, path).isOk());
        auto model = Model::load(path);
        QVERIFY2(model.isOk(), model.status().toString().c_str());
        const Tokenizer& tok = (*model)->tokenizer();
        QCOMPARE(tok.vocabSize(), 261);
        const std::string text = "Grüße, 世界! <|im_start|>user\nhi<|im_end|>";
        std::vector<int32_t> ids = tok.encode(text, true);
        QCOMPARE(ids.front(), tok.bosId());
        QCOMPARE(tok.tokenName(ids[1]), std::string("<0x47>")); // 'G'
        int controls = 0;
        for (int32_t id : ids) controls += tok.isControl(id) ? 1 : 0;
        QCOMPARE(controls, 3); // BOS, <|im_start|>, <|im_end|>
        QCOMPARE(ids.back(), tok.eotId());
        QCOMPARE(tok.decode(ids), std::string("Grüße, 世界! user\nhi"));
        QCOMPARE(tok.encode("x", false).size(), size_t(1));
    }

    void halfConversions() {
        for (float v : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.333333f}) {
            QVERIFY(std::fabs(f16ToF32(f32ToF16(v)) - v) <= std::fabs(v) * 1e-3f + 1e-7f);
            QVERIFY(std::fabs(bf16ToF32(f32ToBf16(v)) - v) <= std::fabs(v) * 8e-3f);
        }
        QCOMPARE(f32ToF16(1.0f), uint16_t(0x3c00));
        QCOMPARE(f32ToF16(70000.0f), uint16_t(0x7c00)); // overflow to inf
        QCOMPARE(f32ToBf16(1.0f), uint16_t(0x3f80));
        QVERIFY(std::isnan(f16ToF32(f32ToF16(NAN))));
        // Every f16 bit pattern survives f16 -> f32 -> f16 (NaNs stay NaN).
        for (uint32_t h = 0; h < 0x10000; ++h) {
            const float f = f16ToF32(uint16_t(h));
            if (std::isnan(f)) continue;
            QCOMPARE(f32ToF16(f), uint16_t(h));
        }
    }
};

QTEST_GUILESS_MAIN(TestText)
#include "test-text.moc"
