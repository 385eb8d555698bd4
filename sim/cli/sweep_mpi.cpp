// MPI for sweeps, or its absence.
#include "sim/cli/sweep_mpi.hpp"

#include <cstdlib>
#include <string>

#include "sim/diagnostics.hpp"

#ifdef KVSIM_HAVE_MPI
#include <mpi.h>
#endif

namespace kvsim::cli {
namespace {

// The world size mpirun (OpenMPI, MPICH, Slurm's srun with PMI) announced, or 0 when not launched by one.
int launched_size() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"}) {
    if (const char* v = std::getenv(var)) return std::atoi(v);
  }
  return 0;
}

}  // namespace

#ifdef KVSIM_HAVE_MPI

bool mpi_built() {
  return true;
}

MpiWorld mpi_start() {
  MpiWorld w;
  if (launched_size() == 0) return w;
  MPI_Init(nullptr, nullptr);
  MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &w.size);
  w.active = true;
  return w;
}

void mpi_barrier(const MpiWorld& w) {
  if (w.active) MPI_Barrier(MPI_COMM_WORLD);
}

std::string mpi_broadcast(const MpiWorld& w, const std::string& text) {
  if (!w.active) return text;
  int n = static_cast<int>(text.size());
  MPI_Bcast(&n, 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::string out = w.rank == 0 ? text : std::string(static_cast<std::size_t>(n), '\0');
  MPI_Bcast(out.data(), n, MPI_CHAR, 0, MPI_COMM_WORLD);
  return out;
}

std::vector<std::string> mpi_gather(const MpiWorld& w, const std::string& text) {
  if (!w.active) return {text};
  const int n = static_cast<int>(text.size());
  std::vector<int> sizes(static_cast<std::size_t>(w.size)), offsets(sizes.size());
  MPI_Gather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  int total = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) offsets[i] = std::exchange(total, total + sizes[i]);
  std::string all(static_cast<std::size_t>(w.rank == 0 ? total : 0), '\0');
  MPI_Gatherv(text.data(), n, MPI_CHAR, all.data(), sizes.data(), offsets.data(), MPI_CHAR, 0, MPI_COMM_WORLD);
  std::vector<std::string> out;
  if (w.rank != 0) return out;
  for (std::size_t i = 0; i < sizes.size(); ++i) out.push_back(all.substr(offsets[i], sizes[i]));
  return out;
}

int mpi_max(const MpiWorld& w, int value) {
  if (!w.active) return value;
  int out = value;
  MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return out;
}

void mpi_finish(MpiWorld& w) {
  if (w.active) MPI_Finalize();
  w.active = false;
}

#else

bool mpi_built() {
  return false;
}

MpiWorld mpi_start() {
  if (launched_size() > 1) {
    throw InputError(
        "this kvsim was built without MPI, so `mpirun -n K kvsim sweep` would run the whole sweep K times. "
        "Install OpenMPI (apt-get install libopenmpi-dev openmpi-bin) and rebuild (cmake finds it), or run the "
        "sweep without mpirun and use --jobs");
  }
  return {};
}
void mpi_barrier(const MpiWorld&) {}
std::string mpi_broadcast(const MpiWorld&, const std::string& text) {
  return text;
}
std::vector<std::string> mpi_gather(const MpiWorld&, const std::string& text) {
  return {text};
}
int mpi_max(const MpiWorld&, int value) {
  return value;
}
void mpi_finish(MpiWorld&) {}

#endif

}  // namespace kvsim::cli
