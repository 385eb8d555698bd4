#include "engine/cost/nnls.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kvsim {
namespace {

// A' (b - A x): the negative gradient of |A x - b|^2 / 2.
std::vector<double> gradient(const DenseMatrix& a, const std::vector<double>& b, const std::vector<double>& x) {
  std::vector<double> w(a.cols, 0.0);
  for (std::size_t i = 0; i < a.rows; ++i) {
    double r = b[i];
    for (std::size_t j = 0; j < a.cols; ++j) r -= a(i, j) * x[j];
    for (std::size_t j = 0; j < a.cols; ++j) w[j] += a(i, j) * r;
  }
  return w;
}

// Applies the Householder reflection of column k (rows k..) of `q` to column j of `q` and to `b`.
void reflect(DenseMatrix& q, std::vector<double>& b, std::size_t k, const std::vector<double>& h) {
  for (std::size_t j = k + 1; j < q.cols; ++j) {
    double s = 0;
    for (std::size_t i = k; i < q.rows; ++i) s += h[i] * q(i, j);
    for (std::size_t i = k; i < q.rows; ++i) q(i, j) -= 2.0 * s * h[i];
  }
  double s = 0;
  for (std::size_t i = k; i < q.rows; ++i) s += h[i] * b[i];
  for (std::size_t i = k; i < q.rows; ++i) b[i] -= 2.0 * s * h[i];
}

}  // namespace

std::vector<double> least_squares(const DenseMatrix& a, const std::vector<double>& b,
                                  const std::vector<std::size_t>& cols) {
  const std::size_t n = cols.size();
  DenseMatrix q(a.rows, n);
  std::vector<double> norms(n, 0.0);
  for (std::size_t i = 0; i < a.rows; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      q(i, j) = a(i, cols[j]);
      norms[j] += q(i, j) * q(i, j);
    }
  }
  std::vector<double> rhs = b;
  std::vector<bool> kept(n, false);
  std::size_t k = 0;  // rows of R built so far
  std::vector<std::size_t> order;
  for (std::size_t j = 0; j < n && k < a.rows; ++j) {
    // Move column j into position k (columns before it that were dropped are left behind).
    double s = 0;
    for (std::size_t i = k; i < a.rows; ++i) s += q(i, j) * q(i, j);
    if (s <= 1e-24 * norms[j] || s == 0) continue;
    if (j != k) {
      for (std::size_t i = 0; i < a.rows; ++i) std::swap(q(i, j), q(i, k));
    }
    const double alpha = q(k, k) > 0 ? -std::sqrt(s) : std::sqrt(s);
    std::vector<double> h(a.rows, 0.0);
    h[k] = q(k, k) - alpha;
    for (std::size_t i = k + 1; i < a.rows; ++i) h[i] = q(i, k);
    double hn = 0;
    for (std::size_t i = k; i < a.rows; ++i) hn += h[i] * h[i];
    hn = std::sqrt(hn);
    if (hn > 0) {
      for (std::size_t i = k; i < a.rows; ++i) h[i] /= hn;
      reflect(q, rhs, k, h);
    }
    q(k, k) = alpha;
    for (std::size_t i = k + 1; i < a.rows; ++i) q(i, k) = 0;
    kept[j] = true;
    order.push_back(j);
    ++k;
  }
  // Back substitution on the k x k upper triangle; column p of R is original passive column order[p].
  std::vector<double> z(k, 0.0);
  for (std::size_t p = k; p-- > 0;) {
    double s = rhs[p];
    for (std::size_t c = p + 1; c < k; ++c) s -= q(p, c) * z[c];
    z[p] = s / q(p, p);
  }
  std::vector<double> x(a.cols, 0.0);
  for (std::size_t p = 0; p < k; ++p) x[cols[order[p]]] = z[p];
  return x;
}

std::vector<double> nnls(const DenseMatrix& a, const std::vector<double>& b) {
  if (b.size() != a.rows) throw std::invalid_argument("nnls: right-hand side size differs from the row count");
  const std::size_t n = a.cols;
  std::vector<double> x(n, 0.0);
  std::vector<bool> passive(n, false);
  double scale = 0;
  for (double e : a.v) scale = std::max(scale, std::abs(e));
  for (double e : b) scale = std::max(scale, std::abs(e));
  const double tol = 1e-12 * std::max(scale, 1.0) * std::max(scale, 1.0) * double(std::max<std::size_t>(a.rows, 1));
  for (std::size_t outer = 0; outer < 3 * n + 3; ++outer) {
    const std::vector<double> w = gradient(a, b, x);
    std::size_t best = n;
    for (std::size_t j = 0; j < n; ++j) {
      if (!passive[j] && w[j] > tol && (best == n || w[j] > w[best])) best = j;
    }
    if (best == n) break;
    passive[best] = true;
    for (std::size_t inner = 0; inner <= n; ++inner) {
      std::vector<std::size_t> cols;
      for (std::size_t j = 0; j < n; ++j) {
        if (passive[j]) cols.push_back(j);
      }
      const std::vector<double> z = least_squares(a, b, cols);
      bool feasible = true;
      for (std::size_t j : cols) feasible = feasible && z[j] > 0;
      if (feasible) {
        x = z;
        break;
      }
      // Step from x toward z as far as feasibility allows, and drop the coefficients that reach zero.
      double alpha = 1.0;
      for (std::size_t j : cols) {
        if (z[j] <= 0) alpha = std::min(alpha, x[j] / (x[j] - z[j]));
      }
      for (std::size_t j = 0; j < n; ++j) {
        x[j] += alpha * (z[j] - x[j]);
        if (passive[j] && x[j] <= 1e-15 * std::max(1.0, std::abs(z[j]))) {
          passive[j] = false;
          x[j] = 0;
        }
      }
    }
  }
  return x;
}

}  // namespace kvsim
