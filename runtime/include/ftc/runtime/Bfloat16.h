//===- Bfloat16.h - bf16 element conversion ---------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// bf16 is f32's upper 16 bits: widening is exact. Checkpoints (safetensors
// BF16 tensors) and the CPU backend's mixed-precision kernels read it.
//===----------------------------------------------------------------------===//
#ifndef FTC_RUNTIME_BFLOAT16_H
#define FTC_RUNTIME_BFLOAT16_H

#include <cstdint>
#include <cstring>

namespace ftc::rt {

inline float bf16ToFloat(uint16_t b) {
  uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

} // namespace ftc::rt

#endif // FTC_RUNTIME_BFLOAT16_H
