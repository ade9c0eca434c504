// Hugging Face folders: a GGUF file and an HF folder of the same tiny random model (one file,
// sharded, bf16) load to the same ModelSpec (except the rope layout, which is the point) and the
// same logits; config.json of real models parse to the values of model-formats.md §2-§6; the
// transformers-4 (rope_theta + rope_scaling) and transformers-5 (rope_parameters) spellings give
// identical specs. Goldens: tests/data/hf-configs/*.json hold the published config.json values as
// restated in model-formats.md §2.1 (DeepSeek), §3 (Mixtral), §5 (Qwen3-MoE), §6 (OLMoE); the
// logits golden is the GGUF forward, whose q/k rows are in the other rope layout, so the check
// fails if the HF writer's un-permutation or the forward's half-rotation path is wrong.
#include "formats/hf/hf-config.h"
#include "models/model-impl.h"
#include "runtime/kv-cache.h"
#include "moe/model-factory.h"
#include "moe/session.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace moe;

namespace {

std::string dataPath(const std::string& name) { return std::string(MOE_TEST_DATA_DIR) + "/hf-configs/" + name; }

std::string readFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<float> logitsOf(const std::shared_ptr<const Model>& m, const std::vector<int32_t>& tokens) {
    auto s = Session::create(m, SessionOptions{});
    if (!s.isOk()) return {};
    auto l = (*s)->evaluate(tokens);
    return l.isOk() ? *l : std::vector<float>{};
}

} // namespace

class TestHfFolder : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;

private slots:
    void ggufAndFolderAgree_data() {
        QTest::addColumn<QString>("type");
        QTest::addColumn<int>("shards");
        QTest::newRow("f32 single file") << "f32" << 1;
        QTest::newRow("f32 three shards") << "f32" << 3;
        QTest::newRow("bf16 two shards") << "bf16" << 2;
    }
    void ggufAndFolderAgree() {
        QFETCH(QString, type);
        QFETCH(int, shards);
        const std::string base = m_dir.path().toStdString() + "/" + type.toStdString() + "-" + std::to_string(shards);
        RandomModelOptions o;
        o.seed = 7;
        o.type = type.toStdString();
        Status st = writeRandomModel(o, base + ".gguf");
        QVERIFY2(st.isOk(), st.message().c_str());
        o.format = "hf";
        o.shards = shards;
        st = writeRandomModel(o, base + "-hf");
        QVERIFY2(st.isOk(), st.message().c_str());
        QCOMPARE(QFile::exists(QString::fromStdString(base + "-hf/model.safetensors.index.json")), shards > 1);

        auto g = Model::load(base + ".gguf");
        QVERIFY2(g.isOk(), g.status().message().c_str());
        auto h = Model::load(base + "-hf/"); // a trailing slash names the folder too
        QVERIFY2(h.isOk(), h.status().message().c_str());
        const ModelSpec& a = (*g)->spec();
        ModelSpec b = (*h)->spec();
        QCOMPARE((*h)->info().format, std::string("hf"));
        QVERIFY(a.ropeInterleaved);  // GGUF llama: rows permuted by the converter (§9.8)
        QVERIFY(!b.ropeInterleaved); // HF checkpoint: half rotation (§1.3)
        QVERIFY(b.generation.present);
        QVERIFY(!(*h)->hasTokenizer()); // the random folder ships no tokenizer files
        b.ropeInterleaved = a.ropeInterleaved;
        b.generation = a.generation;
        QCOMPARE(b.architecture, a.architecture);
        QCOMPARE(b.name, a.name);
        QCOMPARE(b.eosIds, a.eosIds);
        QCOMPARE(b.bosId, a.bosId);
        QCOMPARE(b.nVocab, a.nVocab);
        QVERIFY(b == a);

        // Same function: token ids through both, full logits.
        std::vector<int32_t> tokens;
        for (int i = 0; i < 23; ++i) tokens.push_back(int32_t((i * 37 + 5) % a.nVocab));
        const std::vector<float> la = logitsOf(*g, tokens), lb = logitsOf(*h, tokens);
        QCOMPARE(la.size(), tokens.size() * size_t(a.nVocab));
        QCOMPARE(lb.size(), la.size());
        float maxDiff = 0, maxAbs = 0;
        for (size_t i = 0; i < la.size(); ++i) {
            maxDiff = std::max(maxDiff, std::fabs(la[i] - lb[i]));
            maxAbs = std::max(maxAbs, std::fabs(la[i]));
        }
        QVERIFY(maxAbs > 0.1f);
        QVERIFY2(maxDiff <= 1e-5f * maxAbs, (std::to_string(maxDiff) + " vs max " + std::to_string(maxAbs)).c_str());
    }

    // The forward over the folder's weights with the GGUF rope pairing must disagree with the
    // GGUF logits: guards that the agreement above can fail.
    void wrongRopeLayoutDisagrees() {
        const std::string base = m_dir.path().toStdString() + "/layout";
        RandomModelOptions o;
        o.seed = 3;
        QVERIFY(writeRandomModel(o, base + ".gguf").isOk());
        o.format = "hf";
        QVERIFY(writeRandomModel(o, base + "-hf").isOk());
        auto g = Model::load(base + ".gguf");
        auto h = Model::load(base + "-hf");
        QVERIFY(g.isOk() && h.isOk());
        const std::vector<int32_t> tokens = {1, 40, 41, 42, 43, 44, 45, 46};
        auto run = [&](const Model& m, bool interleaved) {
            ModelSpec spec = m.spec();
            spec.ropeInterleaved = interleaved;
            std::vector<float> logits;
            auto backend = makeCpuBackend(1);
            Workspace ws(*backend);
            KvCache cache; // backend memory: destroyed before the backend
            ForwardContext ctx;
            ctx.ws = &ws;
            auto fam = bindFamily(*m.impl().weightSource, spec, *backend);
            if (!fam.isOk()) return logits;
            const KvGeometry kv = (*fam)->kvGeometry();
            if (!cache.init(*backend, spec.nLayer, 16, kv.kDim, kv.vDim).isOk()) return logits;
            if (!(*fam)->forward(cache, tokens, 0, false, logits, ctx).isOk()) logits.clear();
            return logits;
        };
        const std::vector<float> la = run(**g, true), right = run(**h, false), wrong = run(**h, true);
        QCOMPARE(right.size(), la.size());
        QCOMPARE(wrong.size(), la.size());
        float dRight = 0, dWrong = 0;
        for (size_t i = 0; i < la.size(); ++i) {
            dRight = std::max(dRight, std::fabs(la[i] - right[i]));
            dWrong = std::max(dWrong, std::fabs(la[i] - wrong[i]));
        }
        QVERIFY2(dRight < 1e-4f, std::to_string(dRight).c_str());
        QVERIFY2(dWrong > 1e-2f, std::to_string(dWrong).c_str());
    }

    void realConfigs_data() {
        QTest::addColumn<QString>("file");
        QTest::newRow("mixtral-8x7b") << "mixtral-8x7b.json";
        QTest::newRow("qwen3-30b-a3b") << "qwen3-30b-a3b.json";
        QTest::newRow("olmoe-1b-7b-0924") << "olmoe-1b-7b-0924.json";
        QTest::newRow("deepseek-v2-lite") << "deepseek-v2-lite.json";
        QTest::newRow("deepseek-v3") << "deepseek-v3.json";
    }
    void realConfigs() {
        QFETCH(QString, file);
        ModelSpec s;
        Status st = hf::readConfig(dataPath(file.toStdString()), s);
        QVERIFY2(st.isOk(), st.message().c_str());
        if (file.startsWith("mixtral")) {
            QCOMPARE(s.architecture, std::string("llama"));
            QCOMPARE(s.family, std::string("gqa-moe"));
            QCOMPARE(s.nEmbd, 4096);
            QCOMPARE(s.nLayer, 32);
            QCOMPARE(s.nHead, 32);
            QCOMPARE(s.nHeadKv, 8);
            QCOMPARE(s.headDim, 128);
            QCOMPARE(s.nFf, 14336);
            QCOMPARE(s.nExpert, 8);
            QCOMPARE(s.nExpertUsed, 2);
            QCOMPARE(s.ropeTheta, 1e6f);
            QCOMPARE(s.rmsEps, 1e-5f);
            QCOMPARE(s.nVocab, 32000);
            QCOMPARE(s.nCtxTrain, 32768);
            QCOMPARE(s.bosId, 1);
            QCOMPARE(s.eosIds, std::vector<int>{2});
            QVERIFY(s.normTopkProb);
            QVERIFY(!s.ropeInterleaved);
            QCOMPARE(s.qkNorm, std::string("none"));
        } else if (file.startsWith("qwen3")) {
            QCOMPARE(s.architecture, std::string("qwen3moe"));
            QCOMPARE(s.nEmbd, 2048);
            QCOMPARE(s.nHead, 32);
            QCOMPARE(s.nHeadKv, 4);
            QCOMPARE(s.headDim, 128); // explicit, not 2048 / 32
            QCOMPARE(s.nFf, 768);
            QCOMPARE(s.nExpert, 128);
            QCOMPARE(s.nExpertUsed, 8);
            QVERIFY(s.normTopkProb);
            QCOMPARE(s.qkNorm, std::string("head"));
            QCOMPARE(s.rmsEps, 1e-6f);
            QCOMPARE(s.nCtxTrain, 40960);
            QCOMPARE(s.nFfShared, 0);
            QVERIFY(!s.attnBias);
        } else if (file.startsWith("olmoe")) {
            QCOMPARE(s.architecture, std::string("olmoe"));
            QCOMPARE(s.nFf, 1024); // intermediate_size is the expert size (§6)
            QCOMPARE(s.nExpert, 64);
            QCOMPARE(s.nExpertUsed, 8);
            QVERIFY(!s.normTopkProb);
            QCOMPARE(s.qkNorm, std::string("full"));
            QCOMPARE(s.rmsEps, 1e-5f); // the 0924 config omits rms_norm_eps (§1.1)
            QCOMPARE(s.ropeTheta, 10000.0f);
            QCOMPARE(s.bosId, -1);
            QCOMPARE(s.eosIds, std::vector<int>{50279});
            QCOMPARE(s.nVocab, 50304);
        } else {
            const bool v3 = file.contains("v3");
            QCOMPARE(s.architecture, std::string("deepseek2"));
            QCOMPARE(s.family, std::string("deepseek"));
            QVERIFY(s.ropeInterleaved);
            QCOMPARE(s.qLoraRank, v3 ? 1536 : 0);
            QCOMPARE(s.kvLoraRank, 512);
            QCOMPARE(s.qkNopeHeadDim, 128);
            QCOMPARE(s.qkRopeHeadDim, 64);
            QCOMPARE(s.vHeadDim, 128);
            QCOMPARE(s.headDim, 192);
            QCOMPARE(s.nRot, 64);
            QCOMPARE(s.nFf, v3 ? 2048 : 1408);
            QCOMPARE(s.nFfDense, v3 ? 18432 : 10944);
            QCOMPARE(s.nExpert, v3 ? 256 : 64);
            QCOMPARE(s.nExpertUsed, v3 ? 8 : 6);
            QCOMPARE(s.nExpertShared, v3 ? 1 : 2);
            QCOMPARE(s.nFfShared, v3 ? 2048 : 2816);
            QCOMPARE(s.firstKDenseReplace, v3 ? 3 : 1);
            QCOMPARE(s.scoringFunc, std::string(v3 ? "sigmoid" : "softmax"));
            QCOMPARE(s.topkMethod, std::string(v3 ? "noaux_tc" : "greedy"));
            QCOMPARE(s.normTopkProb, v3);
            QCOMPARE(s.routedScalingFactor, v3 ? 2.5f : 1.0f);
            QCOMPARE(s.nGroup, v3 ? 8 : 1);
            QCOMPARE(s.topkGroup, v3 ? 4 : 1);
            QCOMPARE(s.nLayer, v3 ? 61 : 27);
            QCOMPARE(s.nVocab, v3 ? 129280 : 102400);
            QCOMPARE(s.bosId, v3 ? 0 : 100000);
            QCOMPARE(s.eosIds, std::vector<int>{v3 ? 1 : 100001});
            QCOMPARE(s.ropeScaling.type, std::string("yarn"));
            QCOMPARE(s.ropeScaling.factor, 40.0f);
            QCOMPARE(s.ropeScaling.originalContext, 4096);
            QCOMPARE(s.ropeScaling.betaFast, 32.0f);
            QCOMPARE(s.ropeScaling.betaSlow, 1.0f);
            QCOMPARE(s.ropeScaling.mscale, v3 ? 1.0f : 0.707f);
            QCOMPARE(s.ropeScaling.mscaleAllDim, v3 ? 1.0f : 0.707f);
            QCOMPARE(s.nCtxTrain, 163840);
        }
    }

    // transformers 5 moves rope_theta and rope_scaling into rope_parameters (with rope_type).
    void ropeParametersMatchRopeScaling_data() { realConfigs_data(); }
    void ropeParametersMatchRopeScaling() {
        QFETCH(QString, file);
        const std::string path = dataPath(file.toStdString());
        nlohmann::json j = nlohmann::json::parse(readFile(path));
        nlohmann::json params = j.contains("rope_scaling") && j["rope_scaling"].is_object() ? j["rope_scaling"]
                                                                                            : nlohmann::json::object();
        if (params.contains("type")) {
            params["rope_type"] = params["type"];
            params.erase("type");
        } else {
            params["rope_type"] = "default";
        }
        params["rope_theta"] = j["rope_theta"];
        j.erase("rope_scaling");
        j.erase("rope_theta");
        j["rope_parameters"] = params;
        ModelSpec v4, v5;
        QVERIFY(hf::readConfig(path, v4).isOk());
        Status st = hf::readConfigText(j.dump(), "v5-" + file.toStdString(), v5);
        QVERIFY2(st.isOk(), st.message().c_str());
        QVERIFY(v4 == v5);
        QVERIFY(v5.ropeTheta == v4.ropeTheta && v5.ropeScaling == v4.ropeScaling);
    }

    void generationConfig() {
        const std::string dir = m_dir.path().toStdString();
        std::ofstream(dir + "/generation_config.json")
            << R"({"bos_token_id": 128000, "eos_token_id": [128001, 128009], "do_sample": true,
                  "temperature": 0.6, "top_p": 0.9, "top_k": 20, "transformers_version": "4.46.0"})";
        ModelSpec s;
        QVERIFY(hf::readConfig(dataPath("mixtral-8x7b.json"), s).isOk());
        Status st = hf::readGenerationConfig(dir + "/generation_config.json", s);
        QVERIFY2(st.isOk(), st.message().c_str());
        QCOMPARE(s.eosIds, (std::vector<int>{128001, 128009}));
        QCOMPARE(s.bosId, 128000);
        QVERIFY(s.generation.present && s.generation.doSample);
        QCOMPARE(s.generation.temperature, 0.6f);
        QCOMPARE(s.generation.topP, 0.9f);
        QCOMPARE(s.generation.topK, 20);
    }

    void badConfigs_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << "{\"architectures\": [" << "not valid JSON";
        QTest::newRow("unknown arch") << R"({"architectures": ["GPT2LMHeadModel"]})" << "GPT2LMHeadModel";
        QTest::newRow("missing hidden_size")
            << R"({"architectures": ["MixtralForCausalLM"], "vocab_size": 10, "num_hidden_layers": 1,
                   "num_attention_heads": 2, "intermediate_size": 4, "num_local_experts": 2,
                   "num_experts_per_tok": 1})"
            << "'hidden_size' is missing";
        QTest::newRow("string heads")
            << R"({"architectures": ["MixtralForCausalLM"], "vocab_size": 10, "hidden_size": 8,
                   "num_hidden_layers": 1, "num_attention_heads": "2"})"
            << "'num_attention_heads' is \"2\"";
        QTest::newRow("k > experts")
            << R"({"architectures": ["MixtralForCausalLM"], "vocab_size": 10, "hidden_size": 8,
                   "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 4,
                   "num_local_experts": 2, "num_experts_per_tok": 3})"
            << "num_experts_per_tok' = 3 exceeds";
    }
    void badConfigs() {
        QFETCH(QString, json);
        QFETCH(QString, expected);
        ModelSpec s;
        Status st = hf::readConfigText(json.toStdString(), "bad/config.json", s);
        QVERIFY(!st.isOk());
        QVERIFY2(st.message().find("bad/config.json") != std::string::npos, st.message().c_str());
        QVERIFY2(st.message().find(expected.toStdString()) != std::string::npos, st.message().c_str());
    }
};

QTEST_GUILESS_MAIN(TestHfFolder)
#include "test-hf-folder.moc"
