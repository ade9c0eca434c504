// Status and Result<T>: how every fallible call of the engine's public API reports failure.
// No exception crosses the API and nothing calls exit(); an error carries a code and a message
// that names the thing (file, offset, tensor, field) and what was expected.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace moe {

enum class StatusCode {
    Ok,
    InvalidArgument, // a caller passed something out of range or malformed
    NotFound,        // a file, tensor or key that must exist does not
    IoError,         // the OS refused a read, write, open or map
    CorruptFile,     // a file's contents contradict its format
    Unsupported,     // a valid input we do not handle (yet): type, architecture, version
    OutOfMemory,     // host or device allocation failed
    DeviceError,     // a backend API call failed (CUDA, Vulkan)
    Cancelled,       // a callback asked to stop
    Internal,        // a broken invariant inside the engine
};

const char* statusCodeName(StatusCode code);

class [[nodiscard]] Status {
public:
    Status() = default;
    Status(StatusCode code, std::string message) : m_code(code), m_message(std::move(message)) {}

    static Status ok() { return {}; }
    bool isOk() const { return m_code == StatusCode::Ok; }
    explicit operator bool() const { return isOk(); }
    StatusCode code() const { return m_code; }
    const std::string& message() const { return m_message; }
    // "CorruptFile: model.gguf: tensor 'x' ends at byte 900, past the end of the file (812)".
    std::string toString() const;

private:
    StatusCode m_code = StatusCode::Ok;
    std::string m_message;
};

inline Status errorStatus(StatusCode code, std::string message) {
    return Status(code, std::move(message));
}

// Result<T>: a value or a non-ok Status. Accessing value() of an error is a programmer error.
template <class T> class [[nodiscard]] Result {
public:
    Result(T value) : m_value(std::move(value)) {}
    Result(Status status) : m_status(std::move(status)) { assert(!m_status.isOk()); }

    bool isOk() const { return m_value.has_value(); }
    explicit operator bool() const { return isOk(); }
    const Status& status() const { return m_status; }

    T& value() & {
        assert(isOk());
        return *m_value;
    }
    const T& value() const& {
        assert(isOk());
        return *m_value;
    }
    T&& value() && {
        assert(isOk());
        return std::move(*m_value);
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

private:
    std::optional<T> m_value;
    Status m_status;
};

} // namespace moe

// MOE_TRY(expr): evaluates a Status-returning expression and returns it from the caller on error.
#define MOE_TRY(expr)                                                                              \
    do {                                                                                           \
        ::moe::Status moeTryStatus_ = (expr);                                                      \
        if (!moeTryStatus_.isOk()) return moeTryStatus_;                                           \
    } while (0)

#define MOE_CONCAT_INNER(a, b) a##b
#define MOE_CONCAT(a, b) MOE_CONCAT_INNER(a, b)
// MOE_ASSIGN_OR_RETURN(lhs, expr): expr yields Result<T>; on error returns its Status.
#define MOE_ASSIGN_OR_RETURN(lhs, expr) MOE_ASSIGN_OR_RETURN_IMPL(MOE_CONCAT(moeRes_, __LINE__), lhs, expr)
#define MOE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)                                                  \
    auto tmp = (expr);                                                                             \
    if (!tmp.isOk()) return tmp.status();                                                          \
    lhs = std::move(tmp).value()
