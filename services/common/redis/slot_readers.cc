#include "services/common/redis/slot_readers.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace townhall {

absl::StatusOr<XReadArgs> XReadArgs::Parse(absl::Span<const std::string> argv) {
  if (argv.empty() || !absl::EqualsIgnoreCase(argv[0], "XREAD")) {
    return absl::InvalidArgumentError("not an XREAD");
  }
  XReadArgs args;
  size_t i = 1;
  for (; i < argv.size() && !absl::EqualsIgnoreCase(argv[i], "STREAMS"); ++i) {
    if (absl::EqualsIgnoreCase(argv[i], "BLOCK")) {
      int64_t ms = -1;
      if (i + 1 == argv.size() || !absl::SimpleAtoi(argv[i + 1], &ms) ||
          ms < 0) {
        return absl::InvalidArgumentError("XREAD: bad BLOCK");
      }
      args.block = absl::Milliseconds(ms);
      ++i;
      continue;
    }
    args.options.push_back(argv[i]);
  }
  size_t rest = i < argv.size() ? argv.size() - i - 1 : 0;
  if (rest == 0 || rest % 2 != 0) {
    return absl::InvalidArgumentError("XREAD: STREAMS needs keys and ids");
  }
  args.keys.assign(argv.begin() + i + 1, argv.begin() + i + 1 + rest / 2);
  args.ids.assign(argv.begin() + i + 1 + rest / 2, argv.end());
  return args;
}

std::vector<std::string> XReadArgs::Argv(absl::Span<const size_t> streams,
                                         absl::Duration block) const {
  std::vector<std::string> argv = {"XREAD"};
  argv.insert(argv.end(), options.begin(), options.end());
  if (block > absl::ZeroDuration()) {
    argv.push_back("BLOCK");
    argv.push_back(absl::StrCat(
        std::max<int64_t>(1, absl::ToInt64Milliseconds(block))));
  }
  argv.push_back("STREAMS");
  for (size_t s : streams) argv.push_back(keys[s]);
  for (size_t s : streams) argv.push_back(ids[s]);
  return argv;
}

absl::StatusOr<SlotReaders::Reader*> SlotReaders::ReaderFor(
    const SlotRead& read, absl::Time deadline) {
  if (read.master.empty()) {
    return absl::UnavailableError(absl::StrCat(
        "storage unavailable (redis cluster: no master serves slot ",
        read.slot, ")"));
  }
  auto it = readers_.find(read.slot);
  if (it != readers_.end() && it->second.master == read.master) {
    return &it->second;
  }
  RedisOptions options = node_;
  options.address = read.master;
  Reader reader{read.master, std::make_unique<RedisConnection>(options)};
  reader.connection->set_deadline(deadline);
  // The id CLIENT UNBLOCK names; it holds as long as the connection.
  absl::StatusOr<RedisReply> id = reader.connection->Command({"CLIENT", "ID"});
  if (!id.ok()) return id.status();
  if (id->type != RedisReply::Type::kInteger) {
    return absl::UnavailableError(
        absl::StrCat("storage unavailable (redis CLIENT ID: ", id->str, ")"));
  }
  reader.client_id = id->integer;
  Reader& stored = readers_[read.slot] = std::move(reader);
  return &stored;
}

std::vector<absl::StatusOr<RedisReply>> SlotReaders::ReadAll(
    absl::Span<const SlotRead> reads, absl::Time deadline, Unblock unblock) {
  const size_t n = reads.size();
  std::vector<absl::StatusOr<RedisReply>> results(n);
  // Reader of each read still waiting for its reply, else null.
  std::vector<Reader*> pending(n, nullptr);
  absl::flat_hash_set<int> broken;
  bool unsent = false;
  std::vector<absl::StatusOr<Reader*>> readers;
  readers.reserve(n);
  for (const SlotRead& read : reads) {
    readers.push_back(ReaderFor(read, deadline));
  }
  for (size_t i = 0; i < n; ++i) {
    if (!readers[i].ok()) {
      results[i] = readers[i].status();
      unsent = true;
      continue;
    }
    RedisConnection& connection = *(*readers[i])->connection;
    connection.set_deadline(deadline);
    if (absl::Status sent = connection.Send(reads[i].argv); !sent.ok()) {
      results[i] = sent;
      broken.insert(reads[i].slot);
      unsent = true;
      continue;
    }
    pending[i] = *readers[i];
  }
  bool unblocked = false;
  auto unblock_pending = [&] {
    if (unblocked) return;
    unblocked = true;
    absl::flat_hash_map<std::string, std::vector<int64_t>> by_master;
    for (Reader* reader : pending) {
      if (reader != nullptr) {
        by_master[reader->master].push_back(reader->client_id);
      }
    }
    for (const auto& [master, ids] : by_master) unblock(master, ids);
  };
  // A read failed: its slot is read again once all are back, which should
  // not wait for the others' block time.
  if (unsent) unblock_pending();
  std::vector<pollfd> fds;
  std::vector<size_t> polled;
  while (std::any_of(pending.begin(), pending.end(),
                     [](Reader* r) { return r != nullptr; })) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    fds.clear();
    polled.clear();
    for (size_t i = 0; i < n; ++i) {
      if (pending[i] == nullptr) continue;
      fds.push_back({pending[i]->connection->fd(), POLLIN, 0});
      polled.push_back(i);
    }
    int ready = poll(fds.data(), fds.size(),
                     static_cast<int>(std::min<int64_t>(
                         absl::ToInt64Milliseconds(absl::Ceil(
                             left, absl::Milliseconds(1))),
                         1000 * 60)));
    if (ready < 0 && errno != EINTR) break;
    for (size_t p = 0; ready > 0 && p < fds.size(); ++p) {
      if (fds[p].revents == 0) continue;
      size_t i = polled[p];
      absl::StatusOr<std::optional<RedisReply>> got =
          pending[i]->connection->Receive();
      if (got.ok() && !got->has_value()) continue;  // the rest is on its way
      pending[i] = nullptr;
      if (!got.ok()) {
        results[i] = got.status();
        broken.insert(reads[i].slot);
      } else {
        results[i] = **std::move(got);
      }
      // Entries or a failure: end the others' blocks.
      if (!results[i].ok() || !results[i]->is_nil()) unblock_pending();
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (pending[i] == nullptr) continue;
    results[i] = absl::DeadlineExceededError("redis XREAD: deadline exceeded");
    broken.insert(reads[i].slot);  // its reply may still come
  }
  absl::flat_hash_set<int> read_slots;
  for (const SlotRead& read : reads) read_slots.insert(read.slot);
  absl::erase_if(readers_, [&](const auto& entry) {
    return broken.contains(entry.first) || !read_slots.contains(entry.first);
  });
  return results;
}

}  // namespace townhall
