// Normalizer steps over ICU (unorm2 for the Unicode forms, u_strToLower for Lowercase).
#include "tokenizers/normalizer.h"

#include <unicode/unorm2.h>
#include <unicode/ustring.h>

namespace moe {

namespace {

Result<std::u16string> toUtf16(std::string_view s) {
    UErrorCode err = U_ZERO_ERROR;
    int32_t len = 0;
    u_strFromUTF8WithSub(nullptr, 0, &len, s.data(), int32_t(s.size()), 0xFFFD, nullptr, &err);
    if (err != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(err))
        return Status(StatusCode::Internal, std::string("ICU u_strFromUTF8: ") + u_errorName(err));
    std::u16string out(static_cast<size_t>(len), u'\0');
    err = U_ZERO_ERROR;
    u_strFromUTF8WithSub(out.data(), len, nullptr, s.data(), int32_t(s.size()), 0xFFFD, nullptr,
                         &err);
    if (U_FAILURE(err))
        return Status(StatusCode::Internal, std::string("ICU u_strFromUTF8: ") + u_errorName(err));
    return out;
}

Result<std::string> toUtf8(const std::u16string& s) {
    UErrorCode err = U_ZERO_ERROR;
    int32_t len = 0;
    u_strToUTF8(nullptr, 0, &len, s.data(), int32_t(s.size()), &err);
    if (err != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(err))
        return Status(StatusCode::Internal, std::string("ICU u_strToUTF8: ") + u_errorName(err));
    std::string out(static_cast<size_t>(len), '\0');
    err = U_ZERO_ERROR;
    u_strToUTF8(out.data(), len, nullptr, s.data(), int32_t(s.size()), &err);
    if (U_FAILURE(err))
        return Status(StatusCode::Internal, std::string("ICU u_strToUTF8: ") + u_errorName(err));
    return out;
}

Result<std::u16string> unicodeForm(const std::u16string& in, Normalizer::Step::Kind kind) {
    UErrorCode err = U_ZERO_ERROR;
    const UNormalizer2* n = nullptr;
    switch (kind) {
    case Normalizer::Step::Kind::Nfc:
        n = unorm2_getNFCInstance(&err);
        break;
    case Normalizer::Step::Kind::Nfd:
        n = unorm2_getNFDInstance(&err);
        break;
    case Normalizer::Step::Kind::Nfkc:
        n = unorm2_getNFKCInstance(&err);
        break;
    default:
        n = unorm2_getNFKDInstance(&err);
        break;
    }
    if (U_FAILURE(err))
        return Status(StatusCode::Internal, std::string("ICU unorm2: ") + u_errorName(err));
    std::u16string out(in.size() * 3 + 16, u'\0');
    int32_t len =
        unorm2_normalize(n, in.data(), int32_t(in.size()), out.data(), int32_t(out.size()), &err);
    if (err == U_BUFFER_OVERFLOW_ERROR) {
        err = U_ZERO_ERROR;
        out.assign(static_cast<size_t>(len), u'\0');
        len = unorm2_normalize(n, in.data(), int32_t(in.size()), out.data(), len, &err);
    }
    if (U_FAILURE(err))
        return Status(StatusCode::Internal,
                      std::string("ICU unorm2_normalize: ") + u_errorName(err));
    out.resize(static_cast<size_t>(len));
    return out;
}

} // namespace

Result<std::string> Normalizer::apply(std::string_view text) const {
    std::string cur(text);
    for (const Step& step : m_steps) {
        switch (step.kind) {
        case Step::Kind::Prepend:
            if (!cur.empty()) cur.insert(0, step.a);
            break;
        case Step::Kind::Replace: {
            if (step.a.empty()) break;
            std::string out;
            size_t pos = 0, hit;
            while ((hit = cur.find(step.a, pos)) != std::string::npos) {
                out.append(cur, pos, hit - pos);
                out += step.b;
                pos = hit + step.a.size();
            }
            out.append(cur, pos, std::string::npos);
            cur = std::move(out);
            break;
        }
        case Step::Kind::Lowercase: {
            MOE_ASSIGN_OR_RETURN(std::u16string u, toUtf16(cur));
            UErrorCode err = U_ZERO_ERROR;
            std::u16string out(u.size() * 2 + 16, u'\0');
            int32_t len = u_strToLower(out.data(), int32_t(out.size()), u.data(), int32_t(u.size()),
                                       "", &err);
            if (U_FAILURE(err))
                return Status(StatusCode::Internal,
                              std::string("ICU u_strToLower: ") + u_errorName(err));
            out.resize(static_cast<size_t>(len));
            MOE_ASSIGN_OR_RETURN(cur, toUtf8(out));
            break;
        }
        default: {
            MOE_ASSIGN_OR_RETURN(std::u16string u, toUtf16(cur));
            MOE_ASSIGN_OR_RETURN(std::u16string n, unicodeForm(u, step.kind));
            MOE_ASSIGN_OR_RETURN(cur, toUtf8(n));
            break;
        }
        }
    }
    return cur;
}

} // namespace moe
