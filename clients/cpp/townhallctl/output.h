// How townhallctl prints a response: JSON (proto field names, the form
// --data takes) or a table for people.
#pragma once

#include <string>

#include "google/protobuf/message.h"

namespace townhall::ctl {

// Proto3 JSON with the .proto field names; one line unless `pretty`.
std::string FormatJson(const google::protobuf::Message& message, bool pretty);

// A response that is one list (ListSessions' sessions, ...) as a table with a
// column per scalar field that any row sets, then the response's other
// fields; anything else as "field: value" lines, nested fields dotted. Text
// with line breaks (an iCalendar, minutes) is printed as it is.
std::string FormatTable(const google::protobuf::Message& message);

}  // namespace townhall::ctl
