// townhall-questions: QuestionService alone; it reaches SchedulingService at
// --peer_address.
#include "services/common/server/server.h"
#include "services/questions/question_service.h"

int main(int argc, char** argv) {
  return townhall::RunServerMain(
      argc, argv, {townhall::questions::QuestionModule()}, "questions");
}
