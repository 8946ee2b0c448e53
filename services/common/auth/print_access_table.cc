// townhall-access-table: prints the access table as Markdown, for
// docs/registration.md (a test checks that the doc shows the current one).
#include <iostream>

#include "services/common/auth/authorization.h"

int main() {
  std::cout << townhall::AccessTableMarkdown();
  return 0;
}
