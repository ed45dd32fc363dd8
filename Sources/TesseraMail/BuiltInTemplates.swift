/// The built-in `en` templates (contract §8.6): subject, text body and HTML body of each
/// message. `mail_templates_dir` overrides any of them, file by file.
enum BuiltInTemplates {
    struct Trio {
        var subject: String
        var text: String
        var html: String
    }

    private static let footerText = "\n\n— {{product_name}}, {{public_url}}\nThis message was sent automatically; replies are not read.\n"
    private static let footerHTML = """
        <p style="color:#666;font-size:12px">{{product_name}} · <a href="{{public_url}}">{{public_url}}</a><br>
        This message was sent automatically; replies are not read.</p>
        """

    /// Wraps paragraphs of HTML in a minimal document.
    private static func page(_ title: String, _ body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(title)</title></head>
        <body style="font-family:sans-serif;max-width:36em;margin:2em auto;color:#222">
        \(body)
        \(footerHTML)
        </body></html>

        """
    }

    private static func codeTrio(subject: String, intro: String, outro: String) -> Trio {
        Trio(
            subject: subject,
            text: "Hello,\n\n\(intro)\n\n{{code}}\n\nThe code expires in {{expires_in_minutes}} minutes. \(outro)" + footerText,
            html: page(subject, """
                <p>Hello,</p>
                <p>\(intro)</p>
                <p style="font-size:28px;letter-spacing:4px;font-weight:bold;font-family:monospace">{{code}}</p>
                <p>The code expires in {{expires_in_minutes}} minutes. \(outro)</p>
                """))
    }

    private static func noticeTrio(subject: String, lines: [String]) -> Trio {
        Trio(
            subject: subject,
            text: "Hello,\n\n" + lines.joined(separator: "\n\n") + footerText,
            html: page(subject, "<p>Hello,</p>\n" + lines.map { "<p>\($0)</p>" }.joined(separator: "\n")))
    }

    private static let notYou = "If this was not you, reset your password at once and contact your administrator."

    static let english: [String: Trio] = [
        "verification_code": codeTrio(
            subject: "Your {{product_name}} verification code",
            intro: "Enter this code to confirm that {{email}} is your address:",
            outro: "If you did not create an account, you can ignore this message."),
        "recovery_code": codeTrio(
            subject: "Reset your {{product_name}} password",
            intro: "Someone asked to reset the password of the account of {{email}}. Enter this code to choose a new one:",
            outro: "If you did not ask for it, ignore this message: your password stays as it is."),
        "add_email_code": codeTrio(
            subject: "Confirm your new {{product_name}} address",
            intro: "Enter this code to add {{email}} to your account:",
            outro: "If you did not ask for it, you can ignore this message."),
        "password_changed": noticeTrio(
            subject: "Your {{product_name}} password was changed",
            lines: ["The password of the account of {{email}} was changed at {{changed_at}}.", notYou]),
        "email_added": noticeTrio(
            subject: "An address was added to your {{product_name}} account",
            lines: ["{{email}} was added to your account at {{changed_at}}.", notYou]),
        "email_changed": noticeTrio(
            subject: "Your {{product_name}} sign-in address was changed",
            lines: ["Your account now signs in with {{email}} (changed at {{changed_at}}).", notYou]),
        "email_removed": noticeTrio(
            subject: "An address was removed from your {{product_name}} account",
            lines: ["{{email}} was removed from your account at {{changed_at}}.", notYou]),
        "account_deleted": noticeTrio(
            subject: "Your {{product_name}} account was deleted",
            lines: ["The account of {{email}} was deleted at {{changed_at}}, with everything it held.",
                    "If this was not you, contact your administrator."]),
    ]
}
