#pragma once
/// @file sweep_mpi.hpp
/// @brief MPI for `mpirun -n K kvsim sweep`: ranks share a sweep's runs, rank 0 gathers the results. Built
/// only when CMake finds MPI (KVSIM_HAVE_MPI); without it, a sweep launched by mpirun with more than one rank
/// stops and says how to build with MPI. MPI is initialised only when the process was launched by mpirun.

#include <string>
#include <vector>

namespace kvsim::cli {

/// @brief This process's place among the ranks; rank 0 of 1 without MPI.
struct MpiWorld {
  int rank = 0;
  int size = 1;
  bool active = false;  ///< MPI was initialised (and must be finalised)
};

/// @brief Whether this build has MPI.
bool mpi_built();
/// @brief Starts MPI if launched by mpirun; throws InputError if launched with several ranks by a build
/// without MPI.
MpiWorld mpi_start();
/// @brief Every rank waits for the others.
void mpi_barrier(const MpiWorld& w);
/// @brief Rank 0's `text` on every rank.
std::string mpi_broadcast(const MpiWorld& w, const std::string& text);
/// @brief Every rank's `text`, in rank order, on rank 0 (empty elsewhere).
std::vector<std::string> mpi_gather(const MpiWorld& w, const std::string& text);
/// @brief The largest `value` of all ranks, on every rank.
int mpi_max(const MpiWorld& w, int value);
/// @brief Ends MPI if it was started.
void mpi_finish(MpiWorld& w);

}  // namespace kvsim::cli
