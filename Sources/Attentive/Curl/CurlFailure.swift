import CLibCurl

/// libcurl's result codes as ``TransportFailure``s: retryable unless retrying cannot help (a certificate that
/// does not verify, a URL libcurl cannot use). Classified by code, never by message text; the message keeps
/// libcurl's own detail (which certificate problem, which host) and names the code.
enum CurlFailure {
    static func classify(_ code: CURLcode, detail: String, deadline: Duration) -> TransportFailure {
        let label = "curl \(code.rawValue)"
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        let reason = ResponseMessage.bounded(ResponseMessage.collapseWhitespace(text), maxLength: 160)
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return .timedOut("no complete response within \(deadline)")
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM, CURLE_SSL_ISSUER_ERROR,
            CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE:
            return .fatal("TLS certificate problem: \(reason) (\(label))")
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CIPHER, CURLE_USE_SSL_FAILED:
            return .connection("TLS handshake failed: \(reason) (\(label))")
        case CURLE_COULDNT_CONNECT:
            return .connection("cannot connect to host: \(reason) (\(label))")
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .connection("host lookup failed: \(reason) (\(label))")
        case CURLE_GOT_NOTHING:
            return .connection("connection closed before any response: \(reason) (\(label))")
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR:
            return .connection("connection lost: \(reason) (\(label))")
        case CURLE_PARTIAL_FILE, CURLE_WEIRD_SERVER_REPLY, CURLE_BAD_CONTENT_ENCODING, CURLE_HTTP2,
            CURLE_HTTP2_STREAM:
            return .connection("malformed or truncated response: \(reason) (\(label))")
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_TOO_MANY_REDIRECTS, CURLE_LOGIN_DENIED,
            CURLE_FILESIZE_EXCEEDED, CURLE_NOT_BUILT_IN, CURLE_UNKNOWN_OPTION, CURLE_BAD_FUNCTION_ARGUMENT:
            return .fatal("request cannot succeed: \(reason) (\(label))")
        default:
            return .connection("connection error: \(reason) (\(label))")
        }
    }
}
