"""The demo seed of issuing agencies and document types: the government documents a citizen's
wallet holds in place of paper (ID card, driving licence, health insurance card, tax code...).

A demo seed, not a legal list: a deployment loads its own with `civicstack wallet seed`. Each
document type has a claim schema (name, Vietnamese and English label, JSON type, required);
changing a schema means a new `schema_version`, and credentials keep the version they were
issued under. `source` says where the data comes from: the population register (issued on
request from the citizen's wallet) or the agency's own system (pushed by API or CSV).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ClaimSpec:
    name: str
    label: str
    label_en: str
    type: str = "string"  # string, date, integer, boolean, object, array
    required: bool = True

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "label": self.label, "label_en": self.label_en,
                "type": self.type, "required": self.required}


@dataclass(frozen=True)
class IssuerSeed:
    slug: str
    name: str
    name_en: str


@dataclass(frozen=True)
class DocumentTypeSeed:
    code: str
    issuer: str
    name: str
    name_en: str
    subject_kind: str
    source: str
    validity_days: int
    integrated_on: date
    claims: tuple[ClaimSpec, ...]
    schema_version: int = 1


PID = ClaimSpec("personal_id_number", "Số định danh cá nhân", "Personal ID number")
NAME = ClaimSpec("full_name", "Họ, chữ đệm và tên", "Full name")
BORN = ClaimSpec("date_of_birth", "Ngày sinh", "Date of birth", "date")
SEX = ClaimSpec("sex", "Giới tính", "Sex")
PERSON = (PID, NAME, BORN)
VALID_FROM = ClaimSpec("valid_from", "Có giá trị từ", "Valid from", "date")
VALID_TO = ClaimSpec("valid_to", "Có giá trị đến", "Valid until", "date")

# The claims every organisation document opens with: whose it is (its subject is this code).
ORGANISATION = (ClaimSpec("tax_code", "Mã số thuế", "Tax code"),
                ClaimSpec("name", "Tên tổ chức", "Organisation name"))
ADDRESS = ClaimSpec("head_office", "Địa chỉ trụ sở chính", "Head office address")
REPRESENTATIVE = ClaimSpec("legal_representative", "Người đại diện theo pháp luật",
                           "Legal representative")
CERTIFICATE_NUMBER = ClaimSpec("certificate_number", "Số giấy chứng nhận", "Certificate number")
ISSUED_ON = ClaimSpec("issued_on", "Ngày cấp", "Issued on", "date")

ISSUERS = (
    IssuerSeed("bo-cong-an", "Bộ Công an", "Ministry of Public Security"),
    IssuerSeed("bo-tu-phap", "Bộ Tư pháp", "Ministry of Justice"),
    IssuerSeed("bhxh-viet-nam", "Bảo hiểm xã hội Việt Nam", "Vietnam Social Security"),
    IssuerSeed("cuc-thue", "Cục Thuế", "Tax Department"),
    IssuerSeed("bo-gd-dt", "Bộ Giáo dục và Đào tạo", "Ministry of Education and Training"),
    IssuerSeed("dang-ky-kinh-doanh", "Cục Quản lý đăng ký kinh doanh",
               "National Business Registration Authority"),
    IssuerSeed("binh-dan-hoc-vu-so", "Nền tảng Bình dân học vụ số",
               "Digital Education for All platform"),
    IssuerSeed("bo-tai-chinh", "Bộ Tài chính", "Ministry of Finance"),
    IssuerSeed("bo-y-te", "Bộ Y tế", "Ministry of Health"),
)

# The eight organisation documents of the eID app, each a certificate of Vietnamese law issued
# to a registered organisation (docs/organisations.md names the law behind each).
ORGANISATION_DOCUMENTS = (
    DocumentTypeSeed(
        "business_registration", "dang-ky-kinh-doanh", "Giấy chứng nhận đăng ký doanh nghiệp",
        "Business registration certificate", "organisation", "agency", 3650, date(2025, 11, 1),
        (ClaimSpec("tax_code", "Mã số doanh nghiệp", "Enterprise code"),
         ClaimSpec("name", "Tên doanh nghiệp", "Company name"), REPRESENTATIVE, ADDRESS,
         ClaimSpec("registered_on", "Ngày đăng ký lần đầu", "First registered on", "date"))),
    DocumentTypeSeed(
        "branch_registration", "dang-ky-kinh-doanh",
        "Giấy chứng nhận đăng ký hoạt động chi nhánh, văn phòng đại diện",
        "Certificate of registration of a branch or representative office", "organisation",
        "agency", 3650, date(2026, 12, 1),
        (*ORGANISATION, ClaimSpec("parent_name", "Tên doanh nghiệp chủ quản", "Parent company"),
         ClaimSpec("unit_kind", "Loại đơn vị", "Kind of unit"),
         ClaimSpec("address", "Địa chỉ hoạt động", "Address of operation"),
         ClaimSpec("head", "Người đứng đầu", "Head of the unit"),
         ClaimSpec("registered_on", "Ngày đăng ký", "Registered on", "date"))),
    DocumentTypeSeed(
        "household_business_registration", "dang-ky-kinh-doanh",
        "Giấy chứng nhận đăng ký hộ kinh doanh", "Household business registration certificate",
        "organisation", "agency", 3650, date(2026, 12, 1),
        (*ORGANISATION, ClaimSpec("owner", "Chủ hộ kinh doanh", "Owner of the household "
                                                                "business"),
         ClaimSpec("trade", "Ngành, nghề kinh doanh", "Line of business"),
         ClaimSpec("address", "Địa điểm kinh doanh", "Place of business"),
         ClaimSpec("registered_on", "Ngày đăng ký", "Registered on", "date"))),
    DocumentTypeSeed(
        "cooperative_registration", "dang-ky-kinh-doanh", "Giấy chứng nhận đăng ký hợp tác xã",
        "Cooperative registration certificate", "organisation", "agency", 3650,
        date(2026, 12, 1),
        (*ORGANISATION, REPRESENTATIVE, ADDRESS,
         ClaimSpec("members", "Số thành viên", "Number of members", "integer"),
         ClaimSpec("registered_on", "Ngày đăng ký", "Registered on", "date"))),
    DocumentTypeSeed(
        "tax_registration", "cuc-thue", "Giấy chứng nhận đăng ký thuế",
        "Tax registration certificate", "organisation", "agency", 3650, date(2026, 12, 1),
        (*ORGANISATION, ClaimSpec("tax_office", "Cơ quan thuế quản lý", "Tax office"),
         ClaimSpec("registered_on", "Ngày đăng ký thuế", "Registered for tax on", "date"))),
    DocumentTypeSeed(
        "investment_registration", "bo-tai-chinh", "Giấy chứng nhận đăng ký đầu tư",
        "Investment registration certificate", "organisation", "agency", 3650,
        date(2026, 12, 1),
        (*ORGANISATION, ClaimSpec("project_code", "Mã số dự án", "Project code"),
         ClaimSpec("project_name", "Tên dự án", "Project name"),
         ClaimSpec("location", "Địa điểm thực hiện dự án", "Project location"),
         ClaimSpec("capital_vnd", "Vốn đầu tư (đồng)", "Investment capital (VND)", "integer"),
         ISSUED_ON)),
    DocumentTypeSeed(
        "food_safety_certificate", "bo-y-te",
        "Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm",
        "Food safety certificate of an establishment", "organisation", "agency", 1095,
        date(2026, 12, 1),
        (*ORGANISATION, CERTIFICATE_NUMBER,
         ClaimSpec("establishment", "Cơ sở", "Establishment"),
         ClaimSpec("activity", "Loại hình sản xuất, kinh doanh", "Activity"), ISSUED_ON)),
    DocumentTypeSeed(
        "security_order_certificate", "bo-cong-an",
        "Giấy chứng nhận đủ điều kiện về an ninh, trật tự",
        "Certificate of meeting security and order conditions", "organisation", "agency", 3650,
        date(2026, 12, 1),
        (*ORGANISATION, CERTIFICATE_NUMBER,
         ClaimSpec("trade", "Ngành, nghề kinh doanh có điều kiện", "Conditional trade"),
         ClaimSpec("address", "Địa điểm kinh doanh", "Place of business"), ISSUED_ON)),
)

DOCUMENT_TYPES = (
    DocumentTypeSeed(
        "id_card", "bo-cong-an", "Căn cước", "ID card", "person", "register", 3650,
        date(2023, 7, 1),
        (*PERSON, SEX, ClaimSpec("nationality", "Quốc tịch", "Nationality"),
         ClaimSpec("place_of_origin", "Quê quán", "Place of origin"),
         ClaimSpec("permanent_address", "Nơi thường trú", "Permanent residence"),
         ClaimSpec("card_number", "Số thẻ", "Card number"),
         ClaimSpec("issued_on", "Ngày cấp", "Issued on", "date"),
         ClaimSpec("card_expires_on", "Có giá trị đến", "Card valid until", "date", False))),
    DocumentTypeSeed(
        "health_insurance", "bhxh-viet-nam", "Thẻ bảo hiểm y tế", "Health insurance card",
        "person", "agency", 365, date(2023, 9, 1),
        (*PERSON, ClaimSpec("card_number", "Mã số BHXH", "Social insurance number"),
         ClaimSpec("hospital", "Nơi đăng ký khám chữa bệnh ban đầu", "Registered hospital"),
         VALID_FROM, VALID_TO)),
    DocumentTypeSeed(
        "driving_licence", "bo-cong-an", "Giấy phép lái xe", "Driving licence", "person",
        "agency", 3650, date(2023, 10, 1),
        (*PERSON, ClaimSpec("licence_number", "Số giấy phép", "Licence number"),
         ClaimSpec("classes", "Hạng", "Classes", "array"),
         ClaimSpec("issued_on", "Ngày cấp", "Issued on", "date"), VALID_TO)),
    DocumentTypeSeed(
        "vehicle_registration", "bo-cong-an", "Chứng nhận đăng ký xe", "Vehicle registration",
        "person", "agency", 3650, date(2024, 1, 1),
        (*PERSON, ClaimSpec("plate", "Biển số", "Number plate"),
         ClaimSpec("make_model", "Nhãn hiệu, số loại", "Make and model"),
         ClaimSpec("colour", "Màu sơn", "Colour"),
         ClaimSpec("registered_on", "Ngày đăng ký", "Registered on", "date"))),
    DocumentTypeSeed(
        "tax_code", "cuc-thue", "Mã số thuế cá nhân", "Personal tax code", "person", "agency",
        3650, date(2024, 3, 1),
        (*PERSON, ClaimSpec("tax_code", "Mã số thuế", "Tax code"),
         ClaimSpec("tax_office", "Cơ quan thuế quản lý", "Tax office"))),
    DocumentTypeSeed(
        "social_insurance", "bhxh-viet-nam", "Sổ bảo hiểm xã hội", "Social insurance record",
        "person", "agency", 3650, date(2024, 5, 1),
        (*PERSON, ClaimSpec("insurance_number", "Mã số BHXH", "Social insurance number"),
         ClaimSpec("contribution_months", "Số tháng đóng", "Months contributed", "integer"))),
    DocumentTypeSeed(
        "residence_confirmation", "bo-cong-an", "Xác nhận thông tin về cư trú",
        "Residence confirmation", "person", "register", 180, date(2024, 7, 1),
        (*PERSON, ClaimSpec("permanent_address", "Nơi thường trú", "Permanent residence"),
         ClaimSpec("temporary_address", "Nơi tạm trú", "Temporary residence", required=False),
         ClaimSpec("household_code", "Mã hộ", "Household code", required=False))),
    DocumentTypeSeed(
        "judicial_record", "bo-tu-phap", "Phiếu lý lịch tư pháp", "Judicial record certificate",
        "person", "agency", 180, date(2024, 10, 1),
        (*PERSON, ClaimSpec("certificate_number", "Số phiếu", "Certificate number"),
         ClaimSpec("criminal_record", "Án tích", "Criminal record"),
         ClaimSpec("issued_on", "Ngày cấp", "Issued on", "date"))),
    DocumentTypeSeed(
        "birth_certificate", "bo-tu-phap", "Giấy khai sinh", "Birth certificate", "person",
        "register", 36500, date(2025, 2, 1),
        (*PERSON, SEX, ClaimSpec("place_of_birth", "Nơi sinh", "Place of birth"),
         ClaimSpec("mother_name", "Họ tên mẹ", "Mother's name", required=False),
         ClaimSpec("father_name", "Họ tên cha", "Father's name", required=False))),
    DocumentTypeSeed(
        "marriage_certificate", "bo-tu-phap", "Giấy chứng nhận kết hôn", "Marriage certificate",
        "person", "register", 36500, date(2025, 2, 1),
        (*PERSON, ClaimSpec("spouse_name", "Họ tên vợ/chồng", "Spouse's name"),
         ClaimSpec("spouse_personal_id_number", "Số định danh của vợ/chồng",
                   "Spouse's personal ID number"),
         ClaimSpec("married_on", "Ngày đăng ký kết hôn", "Married on", "date"))),
    DocumentTypeSeed(
        "family_relations", "bo-cong-an", "Thông tin quan hệ gia đình", "Family relations",
        "person", "register", 180, date(2025, 6, 1),
        (*PERSON, ClaimSpec("relatives", "Quan hệ", "Relatives", "array"))),
    DocumentTypeSeed(
        "diploma", "bo-gd-dt", "Bằng tốt nghiệp", "Diploma", "person", "agency", 36500,
        date(2025, 9, 1),
        (*PERSON, ClaimSpec("qualification", "Văn bằng", "Qualification"),
         ClaimSpec("institution", "Cơ sở đào tạo", "Institution"),
         ClaimSpec("graduation_year", "Năm tốt nghiệp", "Year of graduation", "integer"),
         ClaimSpec("diploma_number", "Số hiệu văn bằng", "Diploma number"))),
    *ORGANISATION_DOCUMENTS,
    # Issued by the eID system (the Ministry of Public Security's) to a member it records as
    # acting for an organisation; revoked when that ends. Not one of the eight: it is the
    # member's, in the member's own wallet, for a bank to check.
    DocumentTypeSeed(
        "organisation_authorisation", "bo-cong-an", "Giấy xác nhận người được ủy quyền của tổ chức",
        "Authorisation to act for an organisation", "person", "agency", 365, date(2026, 12, 1),
        (*PERSON, ClaimSpec("organisation_tax_code", "Mã số thuế của tổ chức",
                            "Organisation's tax code"),
         ClaimSpec("organisation_name", "Tên tổ chức", "Organisation name"),
         ClaimSpec("role", "Vai trò", "Role"),
         ClaimSpec("permissions", "Được phép", "Permissions", "array"), VALID_TO)),
    DocumentTypeSeed(
        "course_certificate", "binh-dan-hoc-vu-so", "Chứng nhận hoàn thành khóa học",
        "Course completion certificate", "person", "agency", 36500, date(2026, 12, 1),
        (*PERSON, ClaimSpec("course_title", "Khóa học", "Course"),
         ClaimSpec("publisher", "Đơn vị xây dựng khóa học", "Published by"),
         ClaimSpec("completed_on", "Ngày hoàn thành", "Completed on", "date"),
         ClaimSpec("score", "Điểm bài kiểm tra (%)", "Quiz score (%)", "integer"))),
)
