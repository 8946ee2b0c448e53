// The concurrent reads behind ClusterRouter's XREAD of streams in several
// slots (docs/redis-cluster.md). Redis refuses an XREAD whose streams are
// in different slots (CROSSSLOT, even when one node serves them all), so
// the router sends one XREAD per slot, all at once, and SlotReaders waits
// for them together with poll(2), each on a connection of its own: a
// blocked XREAD holds its connection.
//
//   SlotReaders readers(node_options);
//   std::vector<absl::StatusOr<RedisReply>> replies = readers.ReadAll(
//       {{slot_a, master_a, xread_a}, {slot_b, master_b, xread_b}},
//       deadline, unblock);
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "services/common/redis/redis_connection.h"
#include "services/common/redis/redis_reply.h"

namespace townhall {

// XREAD [COUNT n] [BLOCK ms] STREAMS k1 .. kn id1 .. idn, parsed.
struct XReadArgs {
  // The arguments before STREAMS but BLOCK (COUNT n).
  std::vector<std::string> options;
  // BLOCK's time; nullopt without BLOCK, zero for BLOCK 0 (no limit).
  std::optional<absl::Duration> block;
  std::vector<std::string> keys;
  std::vector<std::string> ids;

  // INVALID_ARGUMENT unless `argv` is an XREAD of that shape.
  static absl::StatusOr<XReadArgs> Parse(absl::Span<const std::string> argv);
  // The XREAD of the streams `streams` (indexes into keys), with
  // BLOCK `block` when it is positive, else without BLOCK.
  std::vector<std::string> Argv(absl::Span<const size_t> streams,
                                absl::Duration block) const;
};

struct SlotRead {
  int slot;
  std::string master;              // "host:port"; empty: fails UNAVAILABLE
  std::vector<std::string> argv;   // an XREAD of streams of `slot`
};

// Not thread-safe: one per ClusterRouter.
class SlotReaders {
 public:
  // Ends the blocked XREADs of `client_ids` on `master` (CLIENT UNBLOCK
  // <id> TIMEOUT: they answer as if their block time were up).
  using Unblock = absl::FunctionRef<void(const std::string& master,
                                         absl::Span<const int64_t> client_ids)>;

  // `node`: the options of every connection (the address is ignored).
  explicit SlotReaders(RedisOptions node) : node_(std::move(node)) {}

  // Sends every read at once, each on its slot's connection (made on first
  // use, its CLIENT ID learned then), and returns their replies in order.
  // As soon as one answers with entries (or an error, or fails), `unblock`
  // ends the blocks of the others, whose replies are read too: they may
  // carry entries. A read not answered by `deadline` fails with
  // DEADLINE_EXCEEDED. A connection that failed is dropped, and so are the
  // connections of slots not in `reads`: the callers read the same
  // streams again and again, and idle ones should not pile up.
  std::vector<absl::StatusOr<RedisReply>> ReadAll(
      absl::Span<const SlotRead> reads, absl::Time deadline, Unblock unblock);

  // Connections held (tests).
  size_t connections() const { return readers_.size(); }

 private:
  struct Reader {
    std::string master;
    std::unique_ptr<RedisConnection> connection;
    int64_t client_id = 0;
  };
  // The slot's connection to `read.master`, made if needed.
  absl::StatusOr<Reader*> ReaderFor(const SlotRead& read, absl::Time deadline);

  const RedisOptions node_;
  // Node map: ReadAll holds pointers to Readers while it makes more.
  absl::node_hash_map<int, Reader> readers_;
};

}  // namespace townhall
