; Inno Setup script for Companion on Windows (built by packaging/build.py when iscc is on PATH).
; build.py passes /DAppVersion=X.Y.Z and /DSourceDir=<dist\companion>; defaults allow a manual build.
; Per-user install (no admin rights), like most desktop apps that keep data in the user profile.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\companion"
#endif

[Setup]
AppId={{6C1D5B8E-3F7A-4C61-9E0B-2D4A7C9E1F35}
AppName=Companion
AppVersion={#AppVersion}
AppPublisher=Companion
DefaultDirName={localappdata}\Programs\Companion
DefaultGroupName=Companion
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=companion-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\companion-gui.exe
; SignTool=signtool   ; enabled in the signed release job, see packaging/README.md

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Companion"; Filename: "{app}\companion-gui.exe"
Name: "{autodesktop}\Companion"; Filename: "{app}\companion-gui.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Run]
Filename: "{app}\companion-gui.exe"; Description: "{cm:LaunchProgram,Companion}"; Flags: nowait postinstall skipifsilent

; User data (photos index, memories, downloaded models) lives in the user profile and is
; deliberately kept on uninstall: removing the app must not delete someone's memories.
