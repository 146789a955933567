"""Every audit action, declared once: the code stored in `AuditEvent.action` and what it means.

As zulip's AuditLogEventType: writers name a member (`AuditAction.UNIT_CREATE`), never a string
built at run time; `audit_record` refuses a code not declared here, and tests/test_audit_actions.py
checks every call site. The audit page's filter lists these labels. A new action is one line here
(with a translator comment giving its English); codes already stored are never renamed.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

ERR_UNREGISTERED = "audit action {code!r} is not declared in fangkong/audit/actions.py"


class AuditAction(models.TextChoices):
    """What an audit event records. The label says it in Chinese; English comes from gettext."""

    # --- org: the tree, people, families, leading groups, roles, the roster ---
    # Translators: audit action: a unit was created
    UNIT_CREATE = "unit.create", _("新建单位")
    # Translators: audit action: a unit was changed
    UNIT_UPDATE = "unit.update", _("修改单位")
    # Translators: audit action: a unit's first responsible person and liaisons were set
    UNIT_RESPONSIBLES = "unit.responsibles", _("设置第一责任人和联络员")
    # Translators: audit action: an extra reporting line was added
    REPORTING_LINE_ADD = "reporting_line.add", _("增加附加报送线")
    # Translators: audit action: a seat in a unit's leading group was filled
    LEADING_GROUP_APPOINT = "leading_group.appoint", _("任命领导小组成员")
    # Translators: audit action: a seat in a unit's leading group was closed
    LEADING_GROUP_END = "leading_group.end", _("领导小组成员卸任")
    # Translators: audit action: a staff member was registered
    PERSON_CREATE = "person.create", _("登记人员")
    # Translators: audit action: a staff member's record was changed
    PERSON_UPDATE = "person.update", _("修改人员信息")
    # Translators: audit action: someone's full ID number was shown
    PERSON_REVEAL_ID = "person.reveal_id", _("查看完整身份证号")
    # Translators: audit action: someone's full mobile number was shown
    PERSON_REVEAL_MOBILE = "person.reveal_mobile", _("查看完整手机号码")
    # Translators: audit action: a family member was added
    FAMILY_ADD = "family.add", _("增加家庭成员")
    # Translators: audit action: a family member was removed
    FAMILY_REMOVE = "family.remove", _("删除家庭成员")
    # Translators: audit action: a staff member declared a family member
    FAMILY_DECLARE = "family.declare", _("申报家庭成员")
    # Translators: audit action: a family member moved out
    FAMILY_MOVE_OUT = "family.move_out", _("家庭成员迁出")
    # Translators: audit action: a role was granted
    ROLE_ASSIGN = "role.assign", _("授予角色")
    # Translators: audit action: a role was taken away
    ROLE_REVOKE = "role.revoke", _("撤销角色")
    # Translators: audit action: a roster file was uploaded (checked or refused)
    ROSTER_UPLOAD = "roster.upload", _("上传名册")
    # Translators: audit action: a checked roster was imported
    ROSTER_IMPORT = "roster.import", _("导入名册")
    # Translators: audit action: a roster was exported
    ROSTER_EXPORT = "roster.export", _("导出名册")

    # --- accounts and sign-in ---
    # Translators: audit action: an account was created
    USER_CREATE = "user.create", _("开通账号")
    # Translators: audit action: an unused activation code was issued again
    USER_ACTIVATION_REISSUE = "user.activation_reissue", _("重新发放激活码")
    # Translators: audit action: a person activated their account
    USER_ACTIVATE = "user.activate", _("激活账号")
    # Translators: audit action: a user changed their password
    USER_PASSWORD_CHANGE = "user.password_change", _("修改密码")
    # Translators: audit action: an administrator reset a password
    USER_PASSWORD_RESET = "user.password_reset", _("重置密码")
    # Translators: audit action: a sign-in verification code was sent
    USER_UNLOCK_CODE = "user.unlock_code", _("发送登录验证码")
    # Translators: audit action: accounts were requested for a subtree
    ACCOUNTS_BATCH = "accounts.batch", _("批量开通账号")
    # Translators: audit action: a batch of accounts was finished
    ACCOUNTS_BATCH_DONE = "accounts.batch_done", _("批量开通账号完成")
    # Translators: audit action: activation slips were printed
    ACCOUNTS_SLIPS = "accounts.slips", _("打印激活凭条")
    # Translators: audit action: an API token was created
    TOKEN_CREATE = "token.create", _("创建 API 令牌")
    # Translators: audit action: an API token was revoked
    TOKEN_REVOKE = "token.revoke", _("吊销 API 令牌")
    # Translators: audit action: a platform identity (WeCom, DingTalk, OIDC) was bound to a person
    SSO_BIND = "sso.bind", _("绑定平台账号")
    # Translators: audit action: a sign-in through a platform was refused
    SSO_REFUSED = "sso.refused", _("平台登录被拒绝")
    # Translators: audit action: someone signed in through a platform
    SSO_SIGN_IN = "sso.sign_in", _("平台登录")

    # --- health check-ins ---
    # Translators: audit action: a daily health check-in was submitted
    CHECKIN_SUBMIT = "checkin.submit", _("健康打卡")
    # Translators: audit action: a locked check-in was corrected by a liaison
    CHECKIN_CORRECT = "checkin.correct", _("更正健康打卡")
    # Translators: audit action: old individual check-ins were purged
    CHECKIN_PURGE = "checkin.purge", _("清理过期打卡")
    # Translators: audit action: a follow-up case was opened
    CASE_OPEN = "case.open", _("开立跟踪病例")
    # Translators: audit action: a follow-up case was updated
    CASE_UPDATE = "case.update", _("更新跟踪病例")
    # Translators: audit action: a staff member was exempted from checking in
    EXEMPTION_ADD = "exemption.add", _("登记免打卡")
    # Translators: audit action: a unit's check-in list was viewed
    HEALTH_VIEW = "health.view", _("查看打卡明细")
    # Translators: audit action: check-ins were exported
    HEALTH_EXPORT = "health.export", _("导出打卡明细")

    # --- unit daily reports ---
    # Translators: audit action: a report form was created
    REPORT_FORM_CREATE = "report_form.create", _("新建报表")
    # Translators: audit action: a daily or zero report was submitted
    REPORT_SUBMIT = "report.submit", _("报送日报告")
    # Translators: audit action: a submitted report was corrected (a new version)
    REPORT_CORRECT = "report.correct", _("更正日报告")
    # Translators: audit action: a superior accepted a report
    REPORT_ACCEPT = "report.accept", _("审核通过日报告")
    # Translators: audit action: a superior returned a report
    REPORT_RETURN = "report.return", _("退回日报告")
    # Translators: audit action: a locked day was unlocked for correction
    REPORT_UNLOCK = "report.unlock", _("解锁日报告")
    # Translators: audit action: a concealment signal was marked as looked into
    SIGNAL_REVIEW = "signal.review", _("核查瞒报信号")
    # Translators: audit action: the monitoring ledger was exported to Excel
    REPORT_EXPORT_LEDGER = "report.export.ledger", _("导出监测台账")
    # Translators: audit action: the daily report was exported as PDF
    REPORT_EXPORT_PDF = "report.export.pdf", _("导出日报告 PDF")
    # Translators: audit action: reports were exported for DHIS2
    REPORT_EXPORT_DHIS2 = "report.export.dhis2", _("导出 DHIS2 数据")

    # --- notices, the outbox, the big screen ---
    # Translators: audit action: a notice was published
    NOTICE_PUBLISH = "notice.publish", _("下发通知")
    # Translators: audit action: a notice was read
    NOTICE_READ = "notice.read", _("阅读通知")
    # Translators: audit action: a notice was acknowledged
    NOTICE_ACK = "notice.ack", _("确认收到通知")
    # Translators: audit action: an administrator sent a failed message again
    NOTIFY_RETRY = "notify.retry", _("重发消息")
    # Translators: audit action: a health-education post was published
    SCREEN_POST_CREATE = "screen_post.create", _("发布宣传内容")
    # Translators: audit action: a health-education post was taken down
    SCREEN_POST_UNPUBLISH = "screen_post.unpublish", _("撤下宣传内容")
    # Translators: audit action: a big-screen display link was created
    DISPLAY_LINK_CREATE = "display_link.create", _("创建大屏链接")
    # Translators: audit action: a big-screen display link was revoked
    DISPLAY_LINK_REVOKE = "display_link.revoke", _("作废大屏链接")

    # --- relief audit (跟踪审计) ---
    # Translators: audit action: a relief audit project was created
    RELIEF_PROJECT_CREATE = "relief.project.create", _("新建审计项目")
    # Translators: audit action: a relief audit project's team was set
    RELIEF_MEMBER_SET = "relief.member.set", _("设置审计组成员")
    # Translators: audit action: a ledger file was uploaded
    RELIEF_FILE_UPLOAD = "relief.file.upload", _("上传台账文件")
    # Translators: audit action: an uploaded ledger file was refused
    RELIEF_FILE_REFUSE = "relief.file.refuse", _("拒收台账文件")
    # Translators: audit action: a ledger file was uploaded again
    RELIEF_FILE_REUPLOAD = "relief.file.reupload", _("重新上传台账文件")
    # Translators: audit action: a stored ledger file was downloaded
    RELIEF_FILE_DOWNLOAD = "relief.file.download", _("下载台账原件")
    # Translators: audit action: a ledger import failed its check
    RELIEF_IMPORT_FAIL = "relief.import.fail", _("台账导入校验未通过")
    # Translators: audit action: a ledger import's columns were mapped again
    RELIEF_IMPORT_REMAP = "relief.import.remap", _("调整台账列对应")
    # Translators: audit action: a checked ledger import was accepted
    RELIEF_IMPORT_ACCEPT = "relief.import.accept", _("确认导入台账")
    # Translators: audit action: a ledger import was discarded
    RELIEF_IMPORT_DISCARD = "relief.import.discard", _("放弃导入台账")
    # Translators: audit action: a column synonym was set
    RELIEF_SYNONYM_SET = "relief.synonym.set", _("设置列名同义词")
    # Translators: audit action: a party's name match was confirmed
    RELIEF_PARTY_CONFIRM = "relief.party.confirm", _("确认单位名称匹配")
    # Translators: audit action: a party was split in two
    RELIEF_PARTY_SPLIT = "relief.party.split", _("拆分单位")
    # Translators: audit action: two parties were merged
    RELIEF_PARTY_MERGE = "relief.party.merge", _("合并单位")
    # Translators: audit action: a party was changed
    RELIEF_PARTY_UPDATE = "relief.party.update", _("修改单位信息")
    # Translators: audit action: a catalogue item was changed
    RELIEF_ITEM_UPDATE = "relief.item.update", _("修改物资信息")
    # Translators: audit action: a finding was added by hand
    RELIEF_FINDING_ADD = "relief.finding.add", _("新增审计问题")
    # Translators: audit action: a finding was reopened for review
    RELIEF_FINDING_OPEN = "relief.finding.open", _("审计问题改为待复核")
    # Translators: audit action: a finding was confirmed
    RELIEF_FINDING_CONFIRMED = "relief.finding.confirmed", _("确认审计问题")
    # Translators: audit action: a finding was dismissed with a reason
    RELIEF_FINDING_DISMISSED = "relief.finding.dismissed", _("排除审计问题")
    # Translators: audit action: a note was added to a finding
    RELIEF_FINDING_NOTE = "relief.finding.note", _("审计问题备注")
    # Translators: audit action: the audit test catalogue's parameters were set
    RELIEF_CATALOGUE_PARAMS = "relief.catalogue.params", _("设置审计测试参数")
    # Translators: audit action: the audit test catalogue was run
    RELIEF_CATALOGUE_RUN = "relief.catalogue.run", _("运行审计测试")
    # Translators: audit action: the audit report draft was downloaded
    RELIEF_REPORT_DOWNLOAD = "relief.report.download", _("下载审计报告")
    # Translators: audit action: the findings workbook was downloaded
    RELIEF_FINDINGS_DOWNLOAD = "relief.findings.download", _("下载审计问题清单")
    # Translators: audit action: files no row points at were removed from relief storage
    RELIEF_CLEANUP = "relief.cleanup", _("清理审计文件")

    # --- the demo ---
    # Translators: audit action: the demo organisation was loaded
    DEMO_LOAD = "demo.load", _("加载演示数据")
    # Translators: audit action: demo staff got accounts
    DEMO_STAFF_ACCOUNTS = "demo.staff_accounts", _("演示职工开通账号")


def check(code: str) -> str:
    """`code` when it is declared, else ValueError: an undeclared action is a programming error."""
    if code not in AuditAction.values:
        raise ValueError(ERR_UNREGISTERED.format(code=code))
    return code


def label(code: str) -> str:
    """The label of a stored action code (the code itself for one no longer declared)."""
    try:
        return AuditAction(code).label
    except ValueError:
        return code
