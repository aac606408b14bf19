#ifndef REFERRAL_SYNC_CLIBCURL_SHIM_H
#define REFERRAL_SYNC_CLIBCURL_SHIM_H
/* libcurl as a system library. curl_easy_setopt, curl_multi_setopt and curl_easy_getinfo are variadic, which
   Swift cannot call: each wrapper below fixes one argument type. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

/* A write or header callback: (bytes, 1, count, userdata) -> bytes taken. */
typedef size_t (*rs_curl_data_callback)(char *bytes, size_t size, size_t count, void *userdata);

static inline CURLcode rs_easy_setopt_long(CURL *easy, CURLoption option, long value) {
    return curl_easy_setopt(easy, option, value);
}

static inline CURLcode rs_easy_setopt_off_t(CURL *easy, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(easy, option, value);
}

/* Strings (copied by libcurl unless documented otherwise), lists, buffers and private pointers. */
static inline CURLcode rs_easy_setopt_pointer(CURL *easy, CURLoption option, void *value) {
    return curl_easy_setopt(easy, option, value);
}

static inline CURLcode rs_easy_setopt_callback(CURL *easy, CURLoption option, rs_curl_data_callback value) {
    return curl_easy_setopt(easy, option, value);
}

static inline CURLMcode rs_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

static inline CURLcode rs_easy_getinfo_long(CURL *easy, CURLINFO info, long *value) {
    return curl_easy_getinfo(easy, info, value);
}

static inline CURLcode rs_easy_getinfo_pointer(CURL *easy, CURLINFO info, void **value) {
    return curl_easy_getinfo(easy, info, value);
}

/* CURLMsg's result lives in a union Swift reads awkwardly. */
static inline CURLcode rs_multi_message_result(const CURLMsg *message) {
    return message->data.result;
}

#endif
