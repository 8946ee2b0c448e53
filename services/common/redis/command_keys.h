// The key arguments of a Redis command, for routing it on a Redis Cluster
// (the slot of its keys names the master that must run it).
//
//   CommandKeys({"HMGET", "th:{t:a}:session:1", "data"})
//       == {"th:{t:a}:session:1"}
//   CommandKeys({"EVALSHA", sha1, "2", k1, k2, arg})  == {k1, k2}
//   CommandKeys({"PING"}).empty()                     // any master
#pragma once

#include <string>
#include <vector>

#include "absl/types/span.h"

namespace townhall {

// Returns the keys of `argv`, in order: EVAL/EVALSHA the `numkeys` after
// the script, XREAD/XREADGROUP the streams after STREAMS, DEL, EXISTS,
// MGET, UNLINK, TOUCH every argument, MSET every other one; none for
// keyless commands (PING, INFO, CLUSTER, SCRIPT, ...), which may run on any
// master; argv[1] for every other command. A malformed command (bad
// numkeys, no STREAMS) has no keys: the node that gets it refuses it.
std::vector<std::string> CommandKeys(absl::Span<const std::string> argv);

// Whether `argv` may change data, so that --redis_wait_replicas waits for
// replicas after it: false for the reads and the connection and server
// commands townhall sends (GET, HMGET, XREAD, ZRANGE, PING, CLIENT, ...),
// true for everything else, unknown commands included (a needless WAIT is
// cheaper than an unconfirmed write). Scripts: LuaScript::writes().
bool CommandWrites(absl::Span<const std::string> argv);

}  // namespace townhall
