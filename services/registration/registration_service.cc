#include "services/registration/registration_service.h"

#include <utility>
#include <vector>

#include "services/common/server/session_rpc.h"
#include "services/common/server/unary_handler.h"
#include "services/registration/attendance_logic.h"
#include "services/registration/directory_import_logic.h"
#include "services/registration/directory_logic.h"
#include "services/registration/exports_logic.h"
#include "services/registration/invitation_logic.h"
#include "services/registration/registration_logic.h"
#include "townhall/v1/registration.grpc.pb.h"

namespace townhall::registration {
namespace {

class RegistrationServiceImpl final
    : public v1::RegistrationService::CallbackService,
      public ServiceModule {
 public:
  explicit RegistrationServiceImpl(const ServiceEnv& env)
      : rpc_(env.rpc),
        sessions_(env, "registration"),
        registrations_(env.auth, env.metrics != nullptr
                                     ? &env.metrics->business()
                                     : nullptr) {}

  std::string grpc_name() const override {
    return v1::RegistrationService::service_full_name();
  }
  grpc::Service* service() override { return this; }

  TH_UNARY_RPC(RegistrationService, CreateOrganization, rpc_, directory_)
  TH_UNARY_RPC(RegistrationService, GetOrganization, rpc_, directory_)
  TH_UNARY_RPC(RegistrationService, ListOrganizations, rpc_, directory_)
  TH_UNARY_RPC(RegistrationService, CreateParticipant, rpc_, directory_)
  TH_UNARY_RPC(RegistrationService, GetParticipant, rpc_, directory_)
  TH_UNARY_RPC(RegistrationService, ListParticipants, rpc_, directory_)
  TH_UNARY_RPC(RegistrationService, ImportDirectory, rpc_, import_)

  TH_UNARY_RPC(RegistrationService, InviteOrganization, &sessions_,
               invitations_)
  TH_UNARY_RPC(RegistrationService, Register, &sessions_, registrations_)
  TH_UNARY_RPC(RegistrationService, RegisterForSeries, &sessions_,
               registrations_)
  TH_UNARY_RPC(RegistrationService, ApproveRegistration, &sessions_,
               registrations_)
  TH_UNARY_RPC(RegistrationService, CancelRegistration, &sessions_,
               registrations_)
  TH_UNARY_RPC(RegistrationService, SetRole, &sessions_, registrations_)
  TH_UNARY_RPC(RegistrationService, GetRegistration, &sessions_, registrations_)
  TH_UNARY_RPC(RegistrationService, ListRegistrations, &sessions_,
               registrations_)
  TH_UNARY_RPC(RegistrationService, IssueJoinToken, &sessions_, registrations_)
  TH_UNARY_RPC(RegistrationService, RecordAttendance, &sessions_, attendance_)
  TH_UNARY_RPC(RegistrationService, GetAttendanceReport, &sessions_,
               attendance_)
  TH_UNARY_RPC(RegistrationService, GetSeriesAttendance, &sessions_,
               attendance_)

  TH_UNARY_RPC(RegistrationService, ExportOrganizations, rpc_, exports_)
  TH_UNARY_RPC(RegistrationService, ExportParticipants, rpc_, exports_)
  TH_UNARY_RPC(RegistrationService, ExportRegistrations, &sessions_, exports_)
  TH_UNARY_RPC(RegistrationService, ExportSessionAttendance, &sessions_,
               exports_)
  TH_UNARY_RPC(RegistrationService, ExportSeriesAttendance, &sessions_,
               exports_)

 private:
  RpcRunner* rpc_;
  SessionRpc sessions_;
  DirectoryLogic directory_;
  DirectoryImportLogic import_;
  InvitationLogic invitations_;
  RegistrationLogic registrations_;
  AttendanceLogic attendance_;
  // Reads through the three above (declared before it).
  ExportsLogic exports_{&directory_, &registrations_, &attendance_};
};

#undef TH_DIRECTORY_RPC
#undef TH_SESSION_RPC
#undef TH_SERIES_RPC

}  // namespace

ModuleSpec RegistrationModule() {
  return {"registration", [](const ServiceEnv& env) {
            return std::make_unique<RegistrationServiceImpl>(env);
          }};
}

}  // namespace townhall::registration
