// Status names and formatting.
#include "moe/status.h"

namespace moe {

const char* statusCodeName(StatusCode code) {
    switch (code) {
    case StatusCode::Ok: return "Ok";
    case StatusCode::InvalidArgument: return "InvalidArgument";
    case StatusCode::NotFound: return "NotFound";
    case StatusCode::IoError: return "IoError";
    case StatusCode::CorruptFile: return "CorruptFile";
    case StatusCode::Unsupported: return "Unsupported";
    case StatusCode::OutOfMemory: return "OutOfMemory";
    case StatusCode::DeviceError: return "DeviceError";
    case StatusCode::Cancelled: return "Cancelled";
    case StatusCode::Internal: return "Internal";
    }
    return "Unknown";
}

std::string Status::toString() const {
    if (isOk()) return "Ok";
    return std::string(statusCodeName(m_code)) + ": " + m_message;
}

} // namespace moe
