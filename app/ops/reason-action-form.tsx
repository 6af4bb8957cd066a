/**
 * An admin's row action that takes an optional reason: the row's id in a hidden field and one submit
 * button per choice (the clicked button's value is the choice).
 */
export function ReasonActionForm({
  action,
  idName,
  id,
  choiceName,
  choices,
}: {
  action: (formData: FormData) => Promise<void>;
  idName: string;
  id: string;
  choiceName: string;
  choices: { value: string; label: string; secondary?: boolean }[];
}) {
  return (
    <form action={action} className="inline-form">
      <input type="hidden" name={idName} value={id} />
      <label className="small">
        Reason
        <input name="reason" maxLength={500} />
      </label>
      {choices.map((c) => (
        <button
          key={c.value}
          type="submit"
          name={choiceName}
          value={c.value}
          className={c.secondary ? "small secondary" : "small"}
        >
          {c.label}
        </button>
      ))}
    </form>
  );
}
