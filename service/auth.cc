// File: service/auth.cc
#include "service/auth.h"

#include <sodium.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace blindfold::service {
namespace {

// Domain separation: these hashes are token hashes of this format version.
constexpr std::string_view kHashKey = "blindfold-token-v1";

std::array<uint8_t, 32> Hash(std::string_view token) {
  std::array<uint8_t, 32> h;
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const uint8_t*>(token.data()),
                     token.size(), reinterpret_cast<const uint8_t*>(kHashKey.data()),
                     kHashKey.size());
  return h;
}

bool ParseHex(std::string_view hex, std::array<uint8_t, 32>* out) {
  if (hex.size() != 64) return false;
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  size_t len = 0;
  return sodium_hex2bin(out->data(), out->size(), hex.data(), hex.size(), nullptr, &len,
                        nullptr) == 0 &&
         len == 32;
}

}  // namespace

bool IsValidName(std::string_view s) {
  if (s.empty() || s.size() > 64 || s[0] == '.') return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
        c != '-' && c != '@') {
      return false;
    }
  }
  return true;
}

absl::StatusOr<TokenAuthenticator> TokenAuthenticator::Parse(std::string_view text) {
  if (sodium_init() < 0) return absl::InternalError("tokens: libsodium failed to start");
  TokenAuthenticator a;
  int line_no = 0;
  // Debian's Abseil has its own string_view.
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_no;
    if (const size_t hash = line.find('#'); hash != absl::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    std::vector<absl::string_view> f =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (f.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tokens line ", line_no, ": expected '<client-id> <token hash>', got ", f.size(),
          " fields"));
    }
    if (!IsValidName(std::string_view(f[0].data(), f[0].size()))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tokens line ", line_no, ": client id '", f[0],
          "' is not 1 to 64 of [A-Za-z0-9._@-]"));
    }
    Entry e;
    e.client = std::string(f[0]);
    if (!ParseHex(std::string_view(f[1].data(), f[1].size()), &e.hash)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tokens line ", line_no, ": the hash is not 64 hex digits (write the output of "
          "'blindfold token', never the token itself)"));
    }
    for (const Entry& other : a.entries_) {
      if (other.client == e.client) {
        return absl::InvalidArgumentError(absl::StrCat(
            "tokens line ", line_no, ": client id '", e.client, "' listed twice"));
      }
    }
    a.entries_.push_back(std::move(e));
  }
  if (a.entries_.empty()) return absl::InvalidArgumentError("tokens: no entries");
  return a;
}

absl::StatusOr<TokenAuthenticator> TokenAuthenticator::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in.good()) return absl::NotFoundError(absl::StrCat("cannot open tokens file ", path));
  std::ostringstream s;
  s << in.rdbuf();
  auto a = Parse(s.str());
  if (!a.ok()) {
    return absl::Status(a.status().code(), absl::StrCat(path, ": ", a.status().message()));
  }
  return a;
}

absl::StatusOr<std::string> TokenAuthenticator::Authenticate(
    std::string_view authorization) const {
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        "no bearer token: send metadata 'authorization: Bearer <token>'");
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !absl::EqualsIgnoreCase(absl::string_view(authorization.data(), kBearer.size()),
                              absl::string_view(kBearer.data(), kBearer.size()))) {
    return absl::UnauthenticatedError(
        "the authorization metadata is not 'Bearer <token>'");
  }
  const std::array<uint8_t, 32> h = Hash(authorization.substr(kBearer.size()));
  // Every entry is compared, match or not.
  const Entry* match = nullptr;
  for (const Entry& e : entries_) {
    const bool eq = sodium_memcmp(e.hash.data(), h.data(), h.size()) == 0;
    if (eq) match = &e;
  }
  if (match == nullptr) return absl::UnauthenticatedError("unknown bearer token");
  return match->client;
}

std::string TokenAuthenticator::NewToken() {
  if (sodium_init() < 0) return "";
  uint8_t raw[32];
  randombytes_buf(raw, sizeof(raw));
  char hex[65];
  sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
  sodium_memzero(raw, sizeof(raw));
  std::string token = absl::StrCat("bf_", hex);
  sodium_memzero(hex, sizeof(hex));
  return token;
}

std::string TokenAuthenticator::HashHex(std::string_view token) {
  const std::array<uint8_t, 32> h = Hash(token);
  char hex[65];
  sodium_bin2hex(hex, sizeof(hex), h.data(), h.size());
  return std::string(hex, 64);
}

}  // namespace blindfold::service
