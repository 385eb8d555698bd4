#pragma once
/// @file nnls.hpp
/// @brief Small dense non-negative least squares (Lawson and Hanson 1974, ch. 23): minimise |A x - b| subject to
/// x >= 0, for the handful of unknowns a fitted step model has. Each inner least-squares solve is a Householder QR
/// of the passive columns, so nearly collinear features cost accuracy, not stability.

#include <cstddef>
#include <vector>

namespace kvsim {

/// @brief A dense row-major matrix of `rows` x `cols`.
struct DenseMatrix {
  std::size_t rows = 0, cols = 0;
  std::vector<double> v;
  DenseMatrix(std::size_t r, std::size_t c) : rows(r), cols(c), v(r * c, 0.0) {}
  double& operator()(std::size_t i, std::size_t j) { return v[i * cols + j]; }
  double operator()(std::size_t i, std::size_t j) const { return v[i * cols + j]; }
};

/// @brief The x >= 0 minimising |A x - b|_2. A column that is a combination of columns already in the solution
/// never enters it (its gradient is zero there), so exactly collinear features keep the first one by index.
/// Throws std::invalid_argument when b's size is not A's row count.
std::vector<double> nnls(const DenseMatrix& a, const std::vector<double>& b);

/// @brief The unconstrained least-squares x over the columns `cols` of A (the others 0), by Householder QR; a
/// column whose remaining norm is below 1e-12 of its own is left at 0 (rank deficiency).
std::vector<double> least_squares(const DenseMatrix& a, const std::vector<double>& b,
                                  const std::vector<std::size_t>& cols);

}  // namespace kvsim
