// File: service/key_store.cc
#include "service/key_store.h"

#include <sodium.h>

namespace blindfold::service {

std::string KeyDigest(std::string_view keys) {
  uint8_t h[32];
  crypto_generichash(h, sizeof(h), reinterpret_cast<const uint8_t*>(keys.data()),
                     keys.size(), nullptr, 0);
  char hex[65];
  sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
  return std::string(hex, 64);
}

}  // namespace blindfold::service
