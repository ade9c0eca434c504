// The GPT-2 byte <-> unicode alphabet of byte-level BPE (model-formats.md §10.2, HF tokenizers
// byte_level.rs `bytes_char`): printable bytes map to the code point of the same value, the other
// 68 bytes to U+0100 + n in increasing order. Byte-level vocabularies spell every token in this
// alphabet, so a piece of text is mapped byte by byte before BPE and mapped back when decoding.
// Also the small UTF-8 helpers the tokenizer needs (no allocation per code point).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace moe {

// UTF-8 spelling of the code point byte b maps to ("Ġ" for 0x20). Built once, thread-safe.
const std::array<std::string, 256>& byteToUnicode();

// The byte that code point cp stands for, or -1 when cp is outside the 256-character alphabet.
int unicodeToByte(uint32_t cp);

// Maps every byte of text through byteToUnicode().
std::string byteLevelEncode(std::string_view text);

// Inverse of byteLevelEncode; characters outside the alphabet are copied as their UTF-8 bytes
// (HF would drop them; keeping them makes added tokens that are not byte-level still readable).
std::string byteLevelDecode(std::string_view mapped);

// Decodes one code point at s[i] and advances i. Invalid or truncated input yields the byte
// value itself and advances by one, so callers never loop forever on malformed text.
uint32_t nextCodePoint(std::string_view s, size_t& i);

// Appends the UTF-8 encoding of cp.
void appendUtf8(std::string& out, uint32_t cp);

} // namespace moe
